/* Django's CSRF token for unsafe requests: the csrftoken cookie, else the page's form field. */

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) {
    return decodeURIComponent(match[1]);
  }
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}
