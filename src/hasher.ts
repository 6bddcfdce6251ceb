import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { PasswordHasher } from './domain/ports.ts';

/** argon2id with the library's defaults (19 MiB, 2 passes: OWASP's minimum recommendation). */
export const argon2Hasher: PasswordHasher = {
  hash: (password) => hash(password, { algorithm: Algorithm.Argon2id }),
  verify: (digest, password) => verify(digest, password).catch(() => false),
};
