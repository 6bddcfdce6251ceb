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

/** Creates an account. `force` lets an administrator (the CLI) create one when signup is closed. */
export async function signUp(
  deps: AccountDeps,
  input: { username?: unknown; password?: unknown },
  opts: { force?: boolean } = {},
): Promise<{ id: string; username: string }> {
  if (!deps.config.signupOpen && !opts.force) {
    throw new AppError('signup_closed', 403, 'Sign-up is closed on this server. Ask its administrator for an account.');
  }
  const username = normalizeUsername(input.username);
  const password = validate(username, input.password);
  const id = deps.newId();
  const created = await deps.store.users.create({
    id,
    username,
    password_hash: await deps.hasher.hash(password),
    created_at: deps.now(),
  });
  if (!created) throw new AppError('username_taken', 409, 'That username is taken.');
  return { id, username };
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
  return { id: user.id, username: user.username };
}
