import { AppError } from '../errors.ts';
import type { Deps, PasswordHasher } from './ports.ts';

export interface AccountDeps extends Pick<Deps, 'store' | 'now' | 'newId' | 'config'> {
  hasher: PasswordHasher;
}

const usernamePattern = /^[a-z0-9][a-z0-9_.-]{2,31}$/;

export function normalizeUsername(raw: unknown): string {
  return typeof raw === 'string' ? raw.trim().toLowerCase() : '';
}

function validate(username: string, password: unknown): string {
  if (!usernamePattern.test(username)) {
    throw new AppError('invalid_username', 422, 'Usernames are 3–32 characters: letters, digits, and . _ - (not first).');
  }
  if (typeof password !== 'string' || password.length < 8) {
    throw new AppError('weak_password', 422, 'Passwords need at least 8 characters.');
  }
  if (password.length > 256) throw new AppError('invalid_password', 422, 'Passwords are at most 256 characters.');
  return password;
}

/** The instance_state name whose row says the first account has been made (it became an administrator). */
export const FIRST_ACCOUNT = 'first_account';

/**
 * Creates an account. `force` lets an administrator (the CLI) create one when signup is closed;
 * `admin` makes it an administrator. The first account on a fresh instance is one anyway: the
 * seat is a row only one transaction can insert, so two first sign-ups at once make one admin.
 */
export async function signUp(
  deps: AccountDeps,
  input: { username?: unknown; password?: unknown },
  opts: { force?: boolean; admin?: boolean } = {},
): Promise<{ id: string; username: string; isAdmin: boolean }> {
  if (!deps.config.signupOpen && !opts.force) {
    throw new AppError('signup_closed', 403, 'Sign-up is closed on this server. Ask its administrator for an account.');
  }
  const username = normalizeUsername(input.username);
  const password = validate(username, input.password);
  const id = deps.newId();
  const passwordHash = await deps.hasher.hash(password);
  const outcome = await deps.store.transaction(async (tx) => {
    const now = deps.now();
    const created = await tx.users.create({ id, username, password_hash: passwordHash, created_at: now, is_admin: false, disabled_at: null });
    if (!created) return undefined;
    const first = await tx.instance.insertOnce(FIRST_ACCOUNT, id, now);
    const isAdmin = first || opts.admin === true;
    if (isAdmin) await tx.users.setAdmin(id, true);
    return { isAdmin };
  });
  if (!outcome) throw new AppError('username_taken', 409, 'That username is taken.');
  return { id, username, isAdmin: outcome.isAdmin };
}

/** Makes an existing account an administrator (the CLI's `reprise user admin <name>`). */
export async function grantAdmin(deps: Pick<Deps, 'store'>, rawUsername: string): Promise<{ id: string; username: string }> {
  const user = await deps.store.users.findByUsername(normalizeUsername(rawUsername));
  if (!user) throw new AppError('not_found', 404, `No account is called ${normalizeUsername(rawUsername)}.`);
  await deps.store.users.setAdmin(user.id, true);
  return { id: user.id, username: user.username };
}

const invalidLogin = () => new AppError('invalid_credentials', 401, 'Wrong username or password.');

export async function logIn(
  deps: AccountDeps,
  input: { username?: unknown; password?: unknown },
): Promise<{ id: string; username: string }> {
  const username = normalizeUsername(input.username);
  const user = username ? await deps.store.users.findByUsername(username) : undefined;
  if (!user || typeof input.password !== 'string') {
    // Hash anyway so that "no such user" takes as long as "wrong password".
    await deps.hasher.hash(typeof input.password === 'string' ? input.password : 'x');
    throw invalidLogin();
  }
  if (!(await deps.hasher.verify(user.password_hash, input.password))) throw invalidLogin();
  // Said only to someone who knows the password: a stranger learns nothing about the account.
  if (user.disabled_at !== null) throw new AppError('account_disabled', 403, 'This account has been disabled by an administrator of this server.');
  return { id: user.id, username: user.username };
}
