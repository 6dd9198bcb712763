/** What a request without credentials is told: with sign-in on, that it may sign in too. */
export const askForCredentials = (signIn: boolean) => (signIn ? 'Sign in first, or send an API key (the x-api-key header).' : 'This server needs an API key (the x-api-key header).');

/** What a key this server does not know is told: not the same as no key, so a person knows to fix it. */
export const KEY_NOT_VALID = 'This key is not valid.';
