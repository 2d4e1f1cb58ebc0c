// `frasco/cookie`: the Cookie and Set-Cookie codec (RFC 6265bis). Re-exports only: no logic here.
export {
  MAX_COOKIE_BYTES,
  MAX_COOKIE_LIFETIME,
  createCookieWriter,
  getCookie,
  parseCookie,
  stringifySetCookie,
  type CookieAttributes,
  type CookieAttributesFor,
  type CookieLifetime,
  type CookieOptionsFor,
  type CookiePriority,
  type CookieSameSite,
  type CookieWriter,
  type OptionsArgument,
  type ParseCookieOptions,
  type SetCookieOptions,
} from './cookie.js'
