"""Attachments: what a sent file is (content.py), how an image is made safe to keep and show
(images.py), where files are kept (storage.py) and the upload limits applied while a request
arrives (limits.py). The services (chat/services/attachments.py) put them together."""
