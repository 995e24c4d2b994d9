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
