import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptData, encryptData, FRAGMENT_SIZE, openStream, PBKDF2_AES_GCM, sealStream } from './crypto.js';

const hex = (s: string) => Buffer.from(s, 'hex');

// sio-go's own test vectors (github.com/secure-io/sio-go, test_vectors.json, the AES-GCM entries;
// the XChaCha20 ones need a cipher Node lacks): [bufSize, key, nonce, associatedData, plaintext,
// ciphertext]. Small buffer sizes, so several cover more than one fragment.
const SIO_VECTORS: [number, string, string, string, string, string][] = [
  [16, '00000000000000000000000000000000', '0000000000000000', '', '', 'e0247a864e783cecb1f7996c13cd3f64'],
  [16, '10000000000000000000000000000000', '0000000000000000', '', '', '0ea5336db7013554c07aa43b369e5655'],
  [16, '10000000000000000000000000000000', '1000000000000000', '', '', 'a52763497d2e64ee49bf4c72dc6881e7'],
  [16, '10000000000000000000000000000000', '1000000000000000', '00', '', '2d9ede532b1f5f034e22375d816f76c2'],
  [16, '10000000000000000000000000000000', '1000000000000000', '00', '00', '61ed193d12a2adf6f1c41f31de4ead6c5c'],
  [16, '20000000000000000000000000000000', '1000000000000000', '00', '00', '4b6e93acd3e4602b9c1ad49da985d1f872'],
  [16, '00000000000000000000000000000000', '0000000000000000', '0000000000000000', '0000000000000000', '4661d681f92680d7a307c7a036700edde4697a1f3ba7e01b'],
  [16, '00000000000000000000000000000001', '2000000000000000', '1000000000000000', '00000000000000000000000000000000', '8501dcfa461a0860ef9933655b1e59a9e7db1ed363b6ff80f219ca986dca9ce2'],
  [16, '0a7a6d49e4ad042f1e1ffa168849d651', '4a9ba500be169ab3', 'd40703848d887a01664c30734fa370581c5f8f6d0ea7bfdd', '424d6d60d7e08b3b41e968fc4557b93c', 'aa4b4ca42d587b98d0d5f009c0efbc4fcaaefdc1c79a3cfe07801ed8c708d259'],
  [16, '10000000000000000000000000000000', '0000000000000002', '', '0000000000000000000000000000000000', '691deb7b9ccbee91f48d12c7ad5fe3cd4e1e5e7d394f06b91228ec9a5dd2456ac7de9502a0b4010fb1ee1db94e940458fb'],
  [16, '20000000000000000000000000000000', '2000000000000000', '00', '00'.repeat(32), 'f58d8fef7ac7782a4361a79c07f5e6c4672d8a45e6cb9ef67cb7177897358deb8d338d313d44f78e0b68a3723d7ca0fe5f62aa8af0a72e508f5d5f8491ecedb2'],
  [16, '000102030405060708090a0b0c0d0e0f', '0001020304050607', '0102030405060708090a0b0c0d0e0f10', '00'.repeat(32), 'beffe57efbdadb693b5545d58454ba746c5362c6f37b65da457d85bfe6af8972cfea267b03f14aedf25e7501e88c0d79f5440d0ac49e5c4fdaab4dfac9aec4d3'],
  [17, '67fc3ffd5353a432a6cbc982007606c8', '6958a70a975e32c6', '', '', '076243570112d32362c1d9e4ab4096ca'],
  [17, '31dd758d120fd5d30063921a21f723be', 'd3794fe387018e32', '1d838b6e861ea7576de110e08818de82a27337a99db7b95aa95c3347971ad4cfa0ef0960d6645f5a64f88c7d',
    'd0ae0d85e93ed6be853ded2031643116a03215b4fda224d2986d7233039aa47e91b686f4',
    'a6fe911b94e0b25a25bf6da71f28ad6a6b6920be01589e9194226f77c164606545d5cbdb76c99415b468c54517f5a8bc8dc8ac13b1b4285fe36f37f7884d5e4bfb32ecef56b4026bf02bfb1d4fce222e01ef9db9'],
];

// Ciphertexts made by Go's madmin.EncryptData (github.com/minio/madmin-go, encrypt_test.go,
// decryptDataTests). All use id 0x00 (argon2id + AES-256-GCM). `key` is argon2id(password,
// salt, t=1, m=64 MiB, p=4, 32 bytes), computed once outside this repo with the reference C
// libargon2 (argon2id_hash_raw); the plaintexts are what those bytes decrypt to, and match
// the inputs of the same file's encryptDataTests (nil, 256/32/256 zero bytes).
const MADMIN_VECTORS = [
  {
    password: '', plaintext: Buffer.alloc(0),
    key: '5561ddb170ed8de32f914a90ee5b78416a5e72fe87d068ece1b481a6e2cce8d3',
    data: '828aa81599df0651c0461adb82283e8b89956baee9f6e719947ef9cddc849028001dc9d3ac0938f66b07bacc9751437e1985f8a9763c240e81',
  },
  {
    password: '', plaintext: Buffer.alloc(256),
    key: '0519b85070accdb3a73d496aebd345159cae7246772d08d37b21f199d9f3eb01',
    data: '1793c71df6647860437134073c15688cbb15961dc0758c7ee1225e66e79c724c00d790dba9c671eae89da2c736d858286ac9bd027abacc6443' +
      '0375cd41b63b67c070c7fba475a8dd66ae65ba905176c48cbe6f734fc74df87343d8ccff54bada4aeb0a04bd021633ebe6c4768e23f5dea142' +
      '561d4fe3f90ed59d13dc5fb3a585dadec1742325291b9c81692bdd3420b2428127f8195e0ecd9a1c9237712ed67af7339fbbf7ff3ee1c516e1' +
      'f81e69d933e057b30997e7274a2c9698e07c39f0e8d6818858f34c8191871b5a52bea9061806bd029024bfc1d9c1f230904968d6c9e10fddcb' +
      'c006ba97356ff243570fd96df07dd6894e215a6b24c4ed730369519289ebd877aff6ccbd2265985e4ab1a2b7930bab9cfb767b97348a639ddf' +
      '8db81bf5151da7e8f3d9638a1b86eb1dd78cc6a526f10a414c78638f',
  },
  {
    password: 'xPl.8/rhR"Q_1xLt', plaintext: Buffer.alloc(32),
    key: 'b7cc749ee036a40c47c16a1087a4c776a9d5ecaf328f8726bc7c547c9fc8fd35',
    data: 'b5c016e93b84b473fc8a37af94936563630c36d6df1841d23a86ee51ca161f9e00ac19116b32f643ff6a56a212b265d8c56' +
      '195bb0d12ce199e13dfdc5272f80c1564da2c6fc2fa18da91d8062de02af5cdafea491c6f3cae1f',
  },
  {
    password: '7h5oU4$te{;K}fgqlI^]', plaintext: Buffer.alloc(256),
    key: '4890b6f7e064fc7dbe43a1772863bcdae95b99bc98170e59d1f2bee967a699c0',
    data: 'c58edf7cfd557b6b655de6f48b1a3049d8d049dadb3a7bfa9ac9ccbb5baf37ec00f83086a26f43b7d6bc9075ad0' +
      '38bf5741f118d502ebe94165e4072ba7f98535d6b1e3b6ae67a98115d146d9b4d90e4df4ae82df9cfa17ed7cd42' +
      '465181559f7ddf09c98beec521bb4478e0cb73c4e0827af8688ff4e7a07327a10d5a180035e6ddb16d974a85257' +
      '981cd9e0360a20f7b4d653190267dfb241148f018ae180568042e864b9e1b5bc05425a3abc2b0324f50c72d5679' +
      '8f924405dfc0f8523f4bb564ed65af8e1b1c82a7a0640552ecf81985d95d0993d99172592ddc1393dfa63e8f0b3' +
      'd744b2cc4b73384ca4693f0c1aec0e9b00e85f2937e891105d67da8f59c14ca96608e0425c42f9c1e7c2a8b3413' +
      'e1381784f9cfe01de7c47cea1f8d7a7d88f5d4aca783cf55332b47f957a6b9a65269d7eb606b877b',
  },
];

test('the stream layer reproduces sio-go test vectors, fragments and final marker included', () => {
  for (const [fragmentSize, key, nonce, ad, plain, sealed] of SIO_VECTORS) {
    const o = { fragmentSize, associatedData: hex(ad) };
    assert.equal(sealStream(hex(key), hex(nonce), hex(plain), o).toString('hex'), sealed, `seal ${sealed}`);
    assert.equal(openStream(hex(key), hex(nonce), hex(sealed), o).toString('hex'), plain, `open ${sealed}`);
  }
});

test('ciphertexts made by Go madmin decrypt, given the argon2id key; without argon2 the id is named', () => {
  for (const v of MADMIN_VECTORS) {
    const data = hex(v.data);
    assert.throws(() => decryptData(v.password, data), /algorithm id 0x00 .*argon2id variants are unsupported/);
    const argon2id = (password: string, salt: Buffer) => {
      assert.equal(password, v.password);
      assert.deepEqual(salt, data.subarray(0, 32));
      return hex(v.key);
    };
    assert.deepEqual(decryptData(v.password, data, { argon2id }), v.plaintext);
  }
});

test('encryptData round-trips across fragment boundaries with the PBKDF2 + AES-GCM layout', () => {
  for (const n of [0, 1, FRAGMENT_SIZE - 1, FRAGMENT_SIZE, FRAGMENT_SIZE + 1, 2 * FRAGMENT_SIZE, 3 * FRAGMENT_SIZE + 7]) {
    const plain = randomBytes(n);
    const data = encryptData('admin-secret', plain);
    const fragments = Math.max(1, Math.ceil(n / FRAGMENT_SIZE));
    assert.equal(data.length, 32 + 1 + 8 + n + 16 * fragments, `size ${n}`);
    assert.equal(data[32], PBKDF2_AES_GCM);
    assert.deepEqual(decryptData('admin-secret', data), plain, `size ${n}`);
  }
  // fresh salt and nonce every time
  assert.notDeepEqual(encryptData('p', Buffer.from('x')), encryptData('p', Buffer.from('x')));
});

test('tampering, truncation, a wrong password and unknown ids are rejected', () => {
  const plain = randomBytes(FRAGMENT_SIZE + 5);
  const data = encryptData('right', plain);
  const flipped = (i: number) => { const d = Buffer.from(data); d[i] = (d[i] as number) ^ 1; return d; };
  for (const i of [0, 31, 33, 40, 41, 41 + FRAGMENT_SIZE + 20, data.length - 1]) {
    assert.throws(() => decryptData('right', flipped(i)), /not authentic/, `byte ${i}`);
  }
  assert.throws(() => decryptData('wrong', data), /not authentic/);
  assert.throws(() => decryptData('right', data.subarray(0, data.length - 1)), /not authentic/);
  // dropping the whole last fragment leaves a full fragment not marked final
  assert.throws(() => decryptData('right', data.subarray(0, 41 + FRAGMENT_SIZE + 16)), /not authentic/);
  assert.throws(() => decryptData('right', data.subarray(0, 41 + 10)), /not authentic/);
  assert.throws(() => decryptData('right', data.subarray(0, 40)), /unexpected header/);
  assert.throws(() => decryptData('right', Buffer.concat([data, Buffer.alloc(1)])), /not authentic/);
  const chacha = Buffer.from(data);
  chacha[32] = 0x01;
  assert.throws(() => decryptData('right', chacha), /algorithm id 0x01 .*unsupported/);
  const unknown = Buffer.from(data);
  unknown[32] = 0x07;
  assert.throws(() => decryptData('right', unknown), /unknown algorithm id 0x07/);
});
