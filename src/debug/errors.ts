/** Errors the user can act on. Anything else is an internal error: "internal error" plus a
 *  logged stack (the session's one error wrapper turns them into DAP error responses). */
export class UserError extends Error {}
