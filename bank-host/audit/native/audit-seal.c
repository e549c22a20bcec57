// The audit log's batch sealer: seals and chains one group commit's records in one call, byte for byte what
// `sealStoredRecord` in ../record.ts produces one record at a time (a test and a known-answer check at load
// hold it to that). Per record: AES-256-GCM under the audit encryption key with "atm-kiosk/audit/v1|<seq>"
// as associated data, then HMAC-SHA256 under the audit MAC key over the previous tag, the sequence number
// (8 bytes, big-endian) and the sealed bytes. The stored value is
//   format byte 1 | seq (8 bytes, big-endian) | chain tag (32) | IV (12) | GCM tag (16) | ciphertext.
//
// Why native: in Node every record costs a cipher object, five calls across the JS/C++ boundary and a
// Buffer per result, about 4 µs of the host's event loop; here the key schedule and the HMAC pads are set
// up once per batch and a record costs well under a microsecond. It uses the OpenSSL that Node itself runs
// (its symbols are resolved from the node process at load time; only OpenSSL's headers are needed to build).
//
// Build: `npm run build:native` (bank-host/audit/native/build.ts). See docs/audit.md, "Cost".
#define OPENSSL_SUPPRESS_DEPRECATED // SHA256_Init and friends: deprecated in OpenSSL 3, still exported
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IV_BYTES 12
#define GCM_TAG_BYTES 16
#define CHAIN_TAG_BYTES 32
#define SEQ_BYTES 8
#define STORED_TAG_OFFSET (1 + SEQ_BYTES)
#define STORED_HEADER_BYTES (STORED_TAG_OFFSET + CHAIN_TAG_BYTES)
#define STORED_FORMAT_V1 1
#define SHA256_BLOCK 64
#define AAD_LABEL "atm-kiosk/audit/v1|"
/* Sequence numbers stay below 2^53 (JavaScript's safe integers). */
#define SEQ_MAX 9007199254740991ULL
/* A record's plaintext is a few hundred bytes; this bound keeps every length well inside an int. */
#define MAX_PLAINTEXT_BYTES (1u << 20)
#define MAX_RECORDS 65536u

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_AUDIT_SEAL", message);
  return NULL;
}

static int get_buffer(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_buffer_info(env, value, (void **)data, length) == napi_ok;
}

static void put_seq(uint8_t *into, uint64_t seq) {
  for (int i = 0; i < SEQ_BYTES; i++) into[i] = (uint8_t)(seq >> (56 - 8 * i));
}

// sealBatch(encKey: Buffer(32), macKey: Buffer(<= 64), previousTag: Buffer(32), firstSeq: number,
//           ivs: Buffer(12 * n), plaintexts: string[n], offsets: Uint32Array(n + 1)) -> Buffer
// Record i's stored value is the returned buffer from offsets[i] to offsets[i + 1].
static napi_value seal_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7) return throw_error(env, "sealBatch takes 7 arguments");

  uint8_t *enc_key, *mac_key, *previous_tag, *ivs;
  size_t enc_key_length, mac_key_length, previous_tag_length, ivs_length;
  if (!get_buffer(env, argv[0], &enc_key, &enc_key_length) || enc_key_length != 32) return throw_error(env, "the audit encryption key must be a 32-byte Buffer");
  if (!get_buffer(env, argv[1], &mac_key, &mac_key_length) || mac_key_length > SHA256_BLOCK) return throw_error(env, "the audit MAC key must be a Buffer of at most 64 bytes");
  if (!get_buffer(env, argv[2], &previous_tag, &previous_tag_length) || previous_tag_length != CHAIN_TAG_BYTES) return throw_error(env, "the previous chain tag must be a 32-byte Buffer");

  double first_seq_number;
  if (napi_get_value_double(env, argv[3], &first_seq_number) != napi_ok || !(first_seq_number >= 1 && first_seq_number <= (double)SEQ_MAX) || (uint64_t)first_seq_number > SEQ_MAX ||
      first_seq_number != (double)(uint64_t)first_seq_number)
    return throw_error(env, "the first sequence number must be an integer from 1 to 2^53 - 1");
  const uint64_t first_seq = (uint64_t)first_seq_number;

  bool is_array = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[5], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[5], &count) != napi_ok)
    return throw_error(env, "the plaintexts must be an array of strings");
  if (count > MAX_RECORDS) return throw_error(env, "too many records for one batch");
  if (count > 0 && first_seq + count - 1 > SEQ_MAX) return throw_error(env, "the batch runs past the last sequence number");
  if (!get_buffer(env, argv[4], &ivs, &ivs_length) || ivs_length != (size_t)count * IV_BYTES) return throw_error(env, "the IVs must be a Buffer of 12 bytes per record");

  napi_typedarray_type offsets_type;
  size_t offsets_length;
  void *offsets_data;
  napi_value offsets_buffer;
  size_t offsets_byte_offset;
  if (napi_get_typedarray_info(env, argv[6], &offsets_type, &offsets_length, &offsets_data, &offsets_buffer, &offsets_byte_offset) != napi_ok ||
      offsets_type != napi_uint32_array || offsets_length != (size_t)count + 1)
    return throw_error(env, "the offsets must be a Uint32Array of one more element than there are records");
  uint32_t *offsets = offsets_data;

  // Sizes first: the plaintexts' UTF-8 lengths fix the output's size.
  napi_value *texts = malloc(sizeof(napi_value) * (count + 1));
  size_t *text_lengths = malloc(sizeof(size_t) * (count + 1));
  if (texts == NULL || text_lengths == NULL) {
    free(texts);
    free(text_lengths);
    return throw_error(env, "out of memory");
  }
  size_t total = 0;
  const char *problem = NULL;
  for (uint32_t i = 0; i < count && problem == NULL; i++) {
    napi_valuetype type;
    if (napi_get_element(env, argv[5], i, &texts[i]) != napi_ok || napi_typeof(env, texts[i], &type) != napi_ok || type != napi_string ||
        napi_get_value_string_utf8(env, texts[i], NULL, 0, &text_lengths[i]) != napi_ok)
      problem = "the plaintexts must be an array of strings";
    else if (text_lengths[i] == 0 || text_lengths[i] > MAX_PLAINTEXT_BYTES)
      problem = "a plaintext must be 1 byte to 1 MiB of UTF-8";
    else
      total += STORED_HEADER_BYTES + IV_BYTES + GCM_TAG_BYTES + text_lengths[i];
  }
  if (problem == NULL && total >= UINT32_MAX) problem = "the batch is too large";
  uint8_t *out = NULL;
  napi_value result = NULL;
  // One spare byte: napi_get_value_string_utf8 always writes a NUL after the text it copies.
  if (problem == NULL && napi_create_buffer(env, total + 1, (void **)&out, &result) != napi_ok) problem = "out of memory";
  if (problem != NULL) {
    free(texts);
    free(text_lengths);
    return throw_error(env, problem);
  }

  EVP_CIPHER_CTX *cipher = EVP_CIPHER_CTX_new();
  // The key schedule once per batch; each record then sets only its IV.
  int ok = cipher != NULL && EVP_EncryptInit_ex(cipher, EVP_aes_256_gcm(), NULL, enc_key, NULL) == 1;
  // HMAC's keyed pads hashed once per batch; each record continues from copies of the two states.
  uint8_t pad[SHA256_BLOCK];
  SHA256_CTX inner_start, outer_start, state;
  for (int i = 0; i < SHA256_BLOCK; i++) pad[i] = (uint8_t)((i < (int)mac_key_length ? mac_key[i] : 0) ^ 0x36);
  SHA256_Init(&inner_start);
  SHA256_Update(&inner_start, pad, SHA256_BLOCK);
  for (int i = 0; i < SHA256_BLOCK; i++) pad[i] = (uint8_t)((i < (int)mac_key_length ? mac_key[i] : 0) ^ 0x5c);
  SHA256_Init(&outer_start);
  SHA256_Update(&outer_start, pad, SHA256_BLOCK);

  const uint8_t *chained_from = previous_tag;
  size_t at = 0;
  for (uint32_t i = 0; ok && i < count; i++) {
    const uint64_t seq = first_seq + i;
    uint8_t *value = out + at;
    uint8_t *sealed = value + STORED_HEADER_BYTES;
    uint8_t *body = sealed + IV_BYTES + GCM_TAG_BYTES;
    const int body_length = (int)text_lengths[i];
    offsets[i] = (uint32_t)at;
    value[0] = STORED_FORMAT_V1;
    put_seq(value + 1, seq);
    memcpy(sealed, ivs + (size_t)i * IV_BYTES, IV_BYTES);
    size_t copied = 0;
    char aad[sizeof AAD_LABEL + 20];
    const int aad_length = snprintf(aad, sizeof aad, AAD_LABEL "%llu", (unsigned long long)seq);
    int written = 0, final_written = 0;
    ok = napi_get_value_string_utf8(env, texts[i], (char *)body, text_lengths[i] + 1, &copied) == napi_ok && copied == text_lengths[i] &&
         aad_length > 0 && (size_t)aad_length < sizeof aad &&
         EVP_EncryptInit_ex(cipher, NULL, NULL, NULL, sealed) == 1 &&
         EVP_EncryptUpdate(cipher, NULL, &written, (const uint8_t *)aad, aad_length) == 1 &&
         EVP_EncryptUpdate(cipher, body, &written, body, body_length) == 1 && written == body_length &&
         EVP_EncryptFinal_ex(cipher, body + written, &final_written) == 1 && final_written == 0 &&
         EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, sealed + IV_BYTES) == 1;
    if (!ok) break;
    uint8_t inner_digest[SHA256_DIGEST_LENGTH];
    state = inner_start;
    SHA256_Update(&state, chained_from, CHAIN_TAG_BYTES);
    SHA256_Update(&state, value + 1, SEQ_BYTES);
    SHA256_Update(&state, sealed, IV_BYTES + GCM_TAG_BYTES + (size_t)body_length);
    SHA256_Final(inner_digest, &state);
    state = outer_start;
    SHA256_Update(&state, inner_digest, sizeof inner_digest);
    SHA256_Final(value + STORED_TAG_OFFSET, &state);
    chained_from = value + STORED_TAG_OFFSET;
    at += STORED_HEADER_BYTES + IV_BYTES + GCM_TAG_BYTES + (size_t)body_length;
  }
  offsets[count] = (uint32_t)at;

  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&inner_start, sizeof inner_start);
  OPENSSL_cleanse(&outer_start, sizeof outer_start);
  OPENSSL_cleanse(&state, sizeof state);
  EVP_CIPHER_CTX_free(cipher); // frees and cleanses the key schedule
  free(texts);
  free(text_lengths);
  if (!ok) {
    OPENSSL_cleanse(out, total + 1);
    return throw_error(env, "sealing an audit record failed in OpenSSL");
  }
  return result;
}

NAPI_MODULE_INIT() {
  napi_value seal;
  if (napi_create_function(env, "sealBatch", NAPI_AUTO_LENGTH, seal_batch, NULL, &seal) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sealBatch", seal) != napi_ok) return NULL;
  return exports;
}
