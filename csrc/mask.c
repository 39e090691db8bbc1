/* WebSocket masking. The key repeats every 4 bytes, so any block size that
   is a multiple of 4 keeps the key phase: we rotate the key once for the
   start offset, then XOR 32/16/8 bytes at a time and finish byte by byte.
   All loads and stores are unaligned-safe (intrinsics or memcpy). */
#include "mask.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define WS_X86 1
#  include <emmintrin.h>
#  if defined(__GNUC__) || defined(__clang__)
#    define WS_HAVE_AVX2 1
#    include <immintrin.h>
#  endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#  define WS_NEON 1
#  include <arm_neon.h>
#endif

#ifdef WS_HAVE_AVX2
/* Set once by ws_mask_init() (module import, GIL held), read-only after. */
static int use_avx2 = 0;

/* Compiled for AVX2 regardless of -march; only called when the CPU has it. */
__attribute__((target("avx2")))
static inline __attribute__((always_inline)) size_t
mask_avx2_body(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *k32,
               int *hi, const int want_hi)
{
    const __m256i k = _mm256_loadu_si256((const __m256i *)k32);
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        a = _mm256_xor_si256(a, k);
        b = _mm256_xor_si256(b, k);
        c = _mm256_xor_si256(c, k);
        d = _mm256_xor_si256(d, k);
        _mm256_storeu_si256((__m256i *)(dst + i), a);
        _mm256_storeu_si256((__m256i *)(dst + i + 32), b);
        _mm256_storeu_si256((__m256i *)(dst + i + 64), c);
        _mm256_storeu_si256((__m256i *)(dst + i + 96), d);
        if (want_hi)
            acc = _mm256_or_si256(acc, _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d)));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + i)), k);
        _mm256_storeu_si256((__m256i *)(dst + i), a);
        if (want_hi)
            acc = _mm256_or_si256(acc, a);
    }
    if (want_hi)
        *hi |= _mm256_movemask_epi8(acc) != 0;
    /* Avoid the AVX-SSE transition penalty in the SSE2 code that follows. */
    _mm256_zeroupper();
    return i;
}

/* Two copies: without the high-bit tracking it is dead code. */
__attribute__((target("avx2")))
static size_t
mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *k32, int *hi)
{
    return mask_avx2_body(dst, src, len, k32, hi, 1);
}

__attribute__((target("avx2")))
static size_t
mask_avx2_plain(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *k32, int *hi)
{
    return mask_avx2_body(dst, src, len, k32, hi, 0);
}
#endif

void
ws_mask_init(void)
{
#ifdef WS_HAVE_AVX2
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#endif
}

const char *
ws_mask_impl(void)
{
#ifdef WS_HAVE_AVX2
    if (use_avx2)
        return "avx2";
#endif
#if defined(WS_X86)
    return "sse2";
#elif defined(WS_NEON)
    return "neon";
#else
    return "word";
#endif
}

/* The work of ws_mask and ws_mask_hi. OR-ing the output as it goes costs
   nothing measurable (the loop waits on memory) and lets the parser skip
   UTF-8 validation of all-ASCII text. */
static inline __attribute__((always_inline)) int
mask_impl(uint8_t *dst, const uint8_t *src, size_t len,
          const uint8_t key[4], size_t offset, const int want_hi)
{
    int hi = 0;
    /* The key rotated to the start offset, repeated to fill a wide register. */
    uint8_t k[32];
    size_t i;
#ifdef WS_HAVE_AVX2
    if (use_avx2 && len >= 256) {
        /* Align the stores to 32 bytes: bytes objects start 16-aligned, and
           32-byte stores straddling cache lines cost ~10% at 64 KiB. */
        size_t head = (size_t)(-(uintptr_t)dst) & 31;
        uint8_t acc = 0;
        for (i = 0; i < head; i++)
            acc |= dst[i] = src[i] ^ key[(offset + i) & 3];
        if (want_hi)
            hi |= acc >= 0x80;
        dst += head;
        src += head;
        len -= head;
        offset += head;
    }
#endif
    for (i = 0; i < 32; i++)
        k[i] = key[(offset + i) & 3];

    i = 0;
#ifdef WS_HAVE_AVX2
    if (use_avx2 && len >= 64)
        i = want_hi ? mask_avx2(dst, src, len, k, &hi)
                    : mask_avx2_plain(dst, src, len, k, &hi);
#endif
#if defined(WS_X86)
    {
        const __m128i kv = _mm_loadu_si128((const __m128i *)k);
        __m128i acc = _mm_setzero_si128();
        for (; i + 64 <= len; i += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
            __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
            a = _mm_xor_si128(a, kv);
            b = _mm_xor_si128(b, kv);
            c = _mm_xor_si128(c, kv);
            d = _mm_xor_si128(d, kv);
            _mm_storeu_si128((__m128i *)(dst + i), a);
            _mm_storeu_si128((__m128i *)(dst + i + 16), b);
            _mm_storeu_si128((__m128i *)(dst + i + 32), c);
            _mm_storeu_si128((__m128i *)(dst + i + 48), d);
            if (want_hi)
                acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)));
        }
        for (; i + 16 <= len; i += 16) {
            __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), kv);
            _mm_storeu_si128((__m128i *)(dst + i), a);
            if (want_hi)
                acc = _mm_or_si128(acc, a);
        }
        if (want_hi)
            hi |= _mm_movemask_epi8(acc) != 0;
    }
#elif defined(WS_NEON)
    {
        const uint8x16_t kv = vld1q_u8(k);
        uint8x16_t acc = vdupq_n_u8(0);
        for (; i + 64 <= len; i += 64) {
            uint8x16_t a = veorq_u8(vld1q_u8(src + i), kv);
            uint8x16_t b = veorq_u8(vld1q_u8(src + i + 16), kv);
            uint8x16_t c = veorq_u8(vld1q_u8(src + i + 32), kv);
            uint8x16_t d = veorq_u8(vld1q_u8(src + i + 48), kv);
            vst1q_u8(dst + i, a);
            vst1q_u8(dst + i + 16, b);
            vst1q_u8(dst + i + 32, c);
            vst1q_u8(dst + i + 48, d);
            if (want_hi)
                acc = vorrq_u8(acc, vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d)));
        }
        for (; i + 16 <= len; i += 16) {
            uint8x16_t a = veorq_u8(vld1q_u8(src + i), kv);
            vst1q_u8(dst + i, a);
            if (want_hi)
                acc = vorrq_u8(acc, a);
        }
        if (want_hi)
            hi |= vmaxvq_u8(acc) >= 0x80;
    }
#endif
    {
        /* Portable 64-bit words; memcpy compiles to plain unaligned loads. */
        uint64_t kw, acc = 0;
        memcpy(&kw, k, 8);
        for (; i + 8 <= len; i += 8) {
            uint64_t v;
            memcpy(&v, src + i, 8);
            v ^= kw;
            memcpy(dst + i, &v, 8);
            acc |= v;
        }
        if (want_hi)
            hi |= (acc & UINT64_C(0x8080808080808080)) != 0;
    }
    {
        uint8_t acc = 0;
        for (; i < len; i++)
            acc |= dst[i] = src[i] ^ k[i & 3];
        hi |= acc >= 0x80;
    }
    return hi;
}

void
ws_mask(uint8_t *dst, const uint8_t *src, size_t len,
        const uint8_t key[4], size_t offset)
{
    (void)mask_impl(dst, src, len, key, offset, 0);
}

int
ws_mask_hi(uint8_t *dst, const uint8_t *src, size_t len,
           const uint8_t key[4], size_t offset)
{
    return mask_impl(dst, src, len, key, offset, 1);
}
