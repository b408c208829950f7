// The envelope MinIO's admin API puts around secret-bearing bodies (madmin-go's EncryptData /
// DecryptData): salt(32) | algorithm id(1) | nonce(8) | sio-go stream. Layout, constants and
// sources are in docs/minio-admin.md. Written from that description with node:crypto only.
//
// We can only *produce* the PBKDF2 variant (id 0x02): the others derive their key with argon2id,
// which Node 20 lacks. A MinIO server's DecryptData accepts 0x02 whether or not it is a FIPS
// build, so requests work; responses from a non-FIPS server use argon2id and can only be read
// if the caller supplies an argon2id function.
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';

export const ARGON2ID_AES_GCM = 0x00;
export const ARGON2ID_CHACHA20_POLY1305 = 0x01;
export const PBKDF2_AES_GCM = 0x02;

const SALT_LEN = 32;
const NONCE_LEN = 8; // the stream nonce; each fragment appends a 4-byte counter to reach 12
const HEADER_LEN = SALT_LEN + 1 + NONCE_LEN;
const TAG_LEN = 16;
const PBKDF2_ITERATIONS = 8192;
// sio-go's default buffer size; both ends must agree on it, and madmin never changes it.
export const FRAGMENT_SIZE = 1 << 14;

export type StreamCipher = 'gcm' | 'chacha20-poly1305';

export interface StreamOptions {
  /** Plaintext bytes per fragment (sio-go's bufSize). */
  fragmentSize?: number;
  /** Authenticated once for the whole stream; madmin passes none. */
  associatedData?: Buffer;
  cipher?: StreamCipher;
}

export interface DecryptOptions {
  /** argon2id(password, salt) with madmin's parameters (t=1, m=64 MiB, p=4, 32-byte key); lets
   *  a caller that has argon2 read ids 0x00/0x01, e.g. server responses. */
  argon2id?: (password: string, salt: Buffer) => Buffer;
}

function aead(cipher: StreamCipher, key: Buffer): 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' {
  if (cipher === 'chacha20-poly1305') return 'chacha20-poly1305';
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`AES-GCM key must be 16 or 32 bytes, got ${key.length}`);
}

function fragmentNonce(nonce: Buffer, seq: number): Buffer {
  const iv = Buffer.alloc(NONCE_LEN + 4);
  nonce.copy(iv);
  iv.writeUInt32LE(seq, NONCE_LEN);
  return iv;
}

// The two identical-looking calls in seal/open let TypeScript pick the AEAD overloads of
// createCipheriv/createDecipheriv (the ones with setAAD and auth tags).
function seal(alg: ReturnType<typeof aead>, key: Buffer, iv: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const c = alg === 'chacha20-poly1305'
    ? createCipheriv(alg, key, iv, { authTagLength: TAG_LEN })
    : createCipheriv(alg, key, iv, { authTagLength: TAG_LEN });
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function open(alg: ReturnType<typeof aead>, key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const d = alg === 'chacha20-poly1305'
    ? createDecipheriv(alg, key, iv, { authTagLength: TAG_LEN })
    : createDecipheriv(alg, key, iv, { authTagLength: TAG_LEN });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_LEN)), d.final()]);
  } catch {
    throw new Error('MinIO admin data is not authentic (wrong password or damaged data)');
  }
}

/** Every fragment's associated data: a flag byte (0x80 marks the final fragment, so truncation
 *  is detected) followed by a tag over the caller's associated data made with counter 0. */
function fragmentAad(alg: ReturnType<typeof aead>, key: Buffer, nonce: Buffer, ad: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00]), seal(alg, key, fragmentNonce(nonce, 0), Buffer.alloc(0), ad)]);
}

function check(key: Buffer, nonce: Buffer, size: number): void {
  if (nonce.length !== NONCE_LEN) throw new Error(`stream nonce must be ${NONCE_LEN} bytes`);
  if (!Number.isInteger(size) || size < 1) throw new Error('fragment size must be a positive integer');
  if (key.length === 0) throw new Error('empty key');
}

/** sio-go stream encryption with an explicit key. */
export function sealStream(key: Buffer, nonce: Buffer, plaintext: Buffer, o: StreamOptions = {}): Buffer {
  const size = o.fragmentSize ?? FRAGMENT_SIZE;
  check(key, nonce, size);
  const alg = aead(o.cipher ?? 'gcm', key);
  const aad = fragmentAad(alg, key, nonce, o.associatedData ?? Buffer.alloc(0));
  const out: Buffer[] = [];
  // The last fragment keeps between 1 and `size` bytes (0 only for empty input): a plaintext
  // of exactly n·size bytes ends in a full fragment flagged final, never an empty extra one.
  let off = 0;
  let seq = 1;
  while (plaintext.length - off > size) {
    out.push(seal(alg, key, fragmentNonce(nonce, seq++), plaintext.subarray(off, off + size), aad));
    off += size;
  }
  aad[0] = 0x80;
  out.push(seal(alg, key, fragmentNonce(nonce, seq), plaintext.subarray(off), aad));
  return Buffer.concat(out);
}

/** sio-go stream decryption with an explicit key; throws unless every fragment authenticates. */
export function openStream(key: Buffer, nonce: Buffer, ciphertext: Buffer, o: StreamOptions = {}): Buffer {
  const size = o.fragmentSize ?? FRAGMENT_SIZE;
  check(key, nonce, size);
  const alg = aead(o.cipher ?? 'gcm', key);
  const aad = fragmentAad(alg, key, nonce, o.associatedData ?? Buffer.alloc(0));
  const sealedSize = size + TAG_LEN;
  const out: Buffer[] = [];
  let off = 0;
  for (let seq = 1; ; seq++) {
    // Whatever is left once less than (or exactly) one sealed fragment remains is the final one.
    const last = ciphertext.length - off <= sealedSize;
    if (last) {
      if (ciphertext.length - off < TAG_LEN) throw new Error('MinIO admin data is not authentic (truncated)');
      aad[0] = 0x80;
    }
    const end = last ? ciphertext.length : off + sealedSize;
    out.push(open(alg, key, fragmentNonce(nonce, seq), ciphertext.subarray(off, end), aad));
    if (last) return Buffer.concat(out);
    off = end;
  }
}

const pbkdf2Key = (password: string, salt: Buffer) => pbkdf2Sync(Buffer.from(password, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha256');

/** madmin EncryptData, PBKDF2-SHA256 + AES-256-GCM variant (what madmin does in FIPS builds). */
export function encryptData(password: string, plaintext: Buffer): Buffer {
  const salt = randomBytes(SALT_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const body = sealStream(pbkdf2Key(password, salt), nonce, plaintext);
  return Buffer.concat([salt, Buffer.from([PBKDF2_AES_GCM]), nonce, body]);
}

/** madmin DecryptData. Id 0x02 always works; 0x00/0x01 need `o.argon2id`. */
export function decryptData(password: string, data: Buffer, o: DecryptOptions = {}): Buffer {
  // madmin reports a short header as "unexpected header"; an empty plaintext is still 57 bytes.
  if (data.length < HEADER_LEN) throw new Error('MinIO admin data has no encryption header (unexpected header)');
  const salt = data.subarray(0, SALT_LEN);
  const id = data[SALT_LEN] as number;
  const nonce = data.subarray(SALT_LEN + 1, HEADER_LEN);
  const body = data.subarray(HEADER_LEN);
  const hex = `0x${id.toString(16).padStart(2, '0')}`;
  switch (id) {
    case PBKDF2_AES_GCM:
      return openStream(pbkdf2Key(password, salt), nonce, body);
    case ARGON2ID_AES_GCM:
    case ARGON2ID_CHACHA20_POLY1305: {
      if (!o.argon2id) {
        throw new Error(`MinIO admin data uses algorithm id ${hex} (argon2id + ${id === ARGON2ID_AES_GCM ? 'AES-256-GCM' : 'ChaCha20-Poly1305'}); ` +
          'argon2id variants are unsupported here (Node 20 has no argon2), only 0x02 (PBKDF2 + AES-256-GCM)');
      }
      const key = o.argon2id(password, Buffer.from(salt));
      return openStream(key, nonce, body, { cipher: id === ARGON2ID_AES_GCM ? 'gcm' : 'chacha20-poly1305' });
    }
    default:
      throw new Error(`MinIO admin data uses unknown algorithm id ${hex}`);
  }
}
