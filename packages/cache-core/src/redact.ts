/** `scheme://user:password@` in any text. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi;

/** `text` with the password of every URL in it replaced by `***`, for logs and messages. */
export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}
