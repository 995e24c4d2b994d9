/* localStorage that never throws: in private mode or with full storage the chat still works
 * for this page's lifetime. */

export function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch (error) {
    return null;
  }
}

export function storageSet(key, value) {
  try {
    if (value === null) {
      window.localStorage.removeItem(key);
    } else {
      window.localStorage.setItem(key, value);
    }
  } catch (error) {
    /* the chat goes on without it */
  }
}
