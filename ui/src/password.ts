// Client-side checks of a new password. They only save a round trip: the
// server checks again, and its error message is shown unchanged.

// UserService.ChangePassword requires at least this many characters.
export const minPasswordLength = 12;

// Returns the first problem with the form, or "" when it may be sent.
export function newPasswordProblem(current: string, next: string, repeat: string): string {
  if (current === "") {
    return "Enter your current password.";
  }
  if ([...next].length < minPasswordLength) {
    return `The new password needs at least ${minPasswordLength} characters.`;
  }
  if (next !== repeat) {
    return "The two new passwords differ.";
  }
  if (next === current) {
    return "The new password must differ from the current one.";
  }
  return "";
}
