"""Static files storage for production: WhiteNoise's compressed, hashed files, with the
page scripts' ES module imports rewritten to the hashed names too."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """``CompressedManifestStaticFilesStorage`` that also rewrites ``import … from "./x.js";``.

    The page scripts are plain ES modules (``static/chat/lib/``, ``customer/``, ``admin/``)
    that import each other by relative paths. Django's manifest storage rewrites those
    statements to the hashed file names when ``support_js_module_import_aggregation`` is on
    (Django docs, "ManifestStaticFilesStorage"), so that every module can be cached forever
    and a deploy never mixes an old module with a new one.
    """

    support_js_module_import_aggregation = True
