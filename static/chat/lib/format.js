/*
 * Django-style placeholders in translated strings: "%(name)s", "%(count)d", "%(minutes)02d".
 * A name missing from params stays as it is, so a mistake shows instead of vanishing.
 */

export function format(template, params = {}) {
  return String(template).replace(/%\((\w+)\)(0?\d*)[sd]/g, (match, name, width) => {
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      return match;
    }
    return String(params[name]).padStart(parseInt(width, 10) || 0, "0");
  });
}

/** A file size for people: "850 KB", "4,2 MB" (the page's language decides the comma). */
export function fileSize(bytes, locale = document.documentElement.lang || undefined) {
  const megabytes = bytes >= 1000 * 1024;
  const value = megabytes ? bytes / (1024 * 1024) : Math.max(bytes / 1024, 1);
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: megabytes ? 1 : 0 }).format(value);
  return number + (megabytes ? " MB" : " KB");
}
