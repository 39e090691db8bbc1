/* permessage-deflate: negotiation (RFC 7692 section 7) and the zlib
   streams (section 7.2).

   The header grammar (RFC 6455 section 9.1, RFC 9110 section 5.6):
       extension-list = 1#( token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] ) )
   Empty list elements are skipped, as RFC 9110 asks of recipients. */
#include "pmd.h"

#include <stdio.h>
#include <string.h>

const uint8_t ws_pmd_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* ------------------------------------------------------------------ */
/* Negotiation                                                         */

typedef struct {
    const char *s;
    size_t n, i;
} cursor;

static int
is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void
skip_ows(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static int
peek(const cursor *c)
{
    return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

/* A token: its start and length; 0 length if none. */
static size_t
token(cursor *c, const char **start)
{
    size_t b = c->i;
    while (c->i < c->n && is_tchar((unsigned char)c->s[c->i]))
        c->i++;
    *start = c->s + b;
    return c->i - b;
}

/* A parameter value (token or quoted-string), unescaped into val (cut at
   cap - 1 bytes, *len is the full length). Returns 0 on a syntax error. */
static int
param_value(cursor *c, char *val, size_t cap, size_t *len)
{
    size_t k = 0;
    if (peek(c) == '"') {
        c->i++;
        for (;;) {
            int ch = peek(c);
            if (ch < 0)
                return 0;  /* unterminated */
            c->i++;
            if (ch == '"')
                break;
            if (ch == '\\') {
                ch = peek(c);
                if (ch < 0)
                    return 0;
                c->i++;
            }
            /* qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text; no CTLs. */
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return 0;
            if (k + 1 < cap)
                val[k] = (char)ch;
            k++;
        }
    } else {
        const char *t;
        size_t tn = token(c, &t);
        if (tn == 0)
            return 0;
        for (k = 0; k < tn; k++)
            if (k + 1 < cap)
                val[k] = t[k];
    }
    val[k + 1 < cap ? k : cap - 1] = '\0';
    *len = k;
    return 1;
}

static int
same_ci(const char *a, size_t an, const char *b)
{
    size_t i, bn = strlen(b);
    if (an != bn)
        return 0;
    for (i = 0; i < an; i++) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != b[i])
            return 0;
    }
    return 1;
}

/* A window size value: 8..15, digits only, no leading zero. -1 if not. */
static int
window_bits_value(const char *v, size_t len)
{
    if (len == 1 && v[0] >= '8' && v[0] <= '9')
        return v[0] - '0';
    if (len == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + v[1] - '0';
    return -1;
}

enum { P_SNCT, P_CNCT, P_SMWB, P_CMWB };

/* Parse the parameters of one extension (the cursor is after its name) up
   to the "," or the end. *acceptable is cleared for an offer we decline.
   Returns 0 on a syntax error. */
static int
offer_params(cursor *c, int is_pmd, const ws_pmd_config *cfg, ws_pmd_params *prm,
             int *acceptable)
{
    int seen[4] = {0, 0, 0, 0};
    int server_bits = 15, client_bits_offered = 0, client_bits = 15;

    for (;;) {
        const char *name;
        size_t nn;
        char val[8];
        size_t vlen = 0;
        int has_value = 0, which = -1;

        skip_ows(c);
        if (peek(c) != ';')
            break;
        c->i++;
        skip_ows(c);
        nn = token(c, &name);
        if (nn == 0)
            return 0;
        skip_ows(c);
        if (peek(c) == '=') {
            c->i++;
            skip_ows(c);
            if (!param_value(c, val, sizeof(val), &vlen))
                return 0;
            has_value = 1;
        }
        if (!is_pmd)
            continue;
        if (same_ci(name, nn, "server_no_context_takeover"))
            which = P_SNCT;
        else if (same_ci(name, nn, "client_no_context_takeover"))
            which = P_CNCT;
        else if (same_ci(name, nn, "server_max_window_bits"))
            which = P_SMWB;
        else if (same_ci(name, nn, "client_max_window_bits"))
            which = P_CMWB;
        if (which < 0 || seen[which]) {
            *acceptable = 0;  /* unknown or repeated */
            continue;
        }
        seen[which] = 1;
        switch (which) {
        case P_SNCT:
        case P_CNCT:
            if (has_value)
                *acceptable = 0;
            break;
        case P_SMWB:
            /* A value is required; zlib cannot compress with 8 bits. */
            server_bits = has_value ? window_bits_value(val, vlen) : -1;
            if (server_bits < 9)
                *acceptable = 0;
            break;
        case P_CMWB:
            client_bits_offered = 1;
            if (has_value) {
                client_bits = window_bits_value(val, vlen);
                if (client_bits < 0)
                    *acceptable = 0;
            }
            break;
        }
    }
    if (!is_pmd || !*acceptable)
        return 1;
    prm->server_no_context_takeover = seen[P_SNCT] || cfg->server_no_context_takeover;
    prm->client_no_context_takeover = seen[P_CNCT] || cfg->client_no_context_takeover;
    prm->server_max_window_bits =
        server_bits < cfg->server_max_window_bits ? server_bits : cfg->server_max_window_bits;
    prm->say_server_bits = seen[P_SMWB] || prm->server_max_window_bits < 15;
    /* The client's window can only be limited when it says it can be
       (section 7.1.2.2); otherwise it may use 15 bits. */
    if (client_bits_offered) {
        prm->client_max_window_bits =
            client_bits < cfg->client_max_window_bits ? client_bits : cfg->client_max_window_bits;
        prm->say_client_bits = prm->client_max_window_bits < 15;
    } else {
        prm->client_max_window_bits = 15;
        prm->say_client_bits = 0;
    }
    return 1;
}

int
ws_pmd_negotiate(const char *value, size_t n, const ws_pmd_config *cfg, ws_pmd_params *out)
{
    cursor c = {value, value ? n : 0, 0};

    for (;;) {
        const char *name;
        size_t nn;
        int acceptable = 1, is_pmd;
        ws_pmd_params prm;

        skip_ows(&c);
        if (peek(&c) == ',') {  /* an empty element */
            c.i++;
            continue;
        }
        if (c.i >= c.n)
            return 0;
        nn = token(&c, &name);
        if (nn == 0)
            return 0;
        is_pmd = same_ci(name, nn, "permessage-deflate");
        memset(&prm, 0, sizeof(prm));
        if (!offer_params(&c, is_pmd, cfg, &prm, &acceptable))
            return 0;
        skip_ows(&c);
        if (c.i < c.n && peek(&c) != ',')
            return 0;  /* junk after the parameters */
        if (is_pmd && acceptable) {
            *out = prm;
            return 1;
        }
        if (c.i < c.n)
            c.i++;  /* the comma */
    }
}

size_t
ws_pmd_response(const ws_pmd_params *prm, char out[WS_PMD_RESPONSE_MAX])
{
    int n = snprintf(out, WS_PMD_RESPONSE_MAX, "permessage-deflate%s%s",
                     prm->server_no_context_takeover ? "; server_no_context_takeover" : "",
                     prm->client_no_context_takeover ? "; client_no_context_takeover" : "");
    if (prm->say_server_bits)
        n += snprintf(out + n, WS_PMD_RESPONSE_MAX - (size_t)n, "; server_max_window_bits=%d",
                      prm->server_max_window_bits);
    if (prm->say_client_bits)
        n += snprintf(out + n, WS_PMD_RESPONSE_MAX - (size_t)n, "; client_max_window_bits=%d",
                      prm->client_max_window_bits);
    return (size_t)n;
}

/* ------------------------------------------------------------------ */
/* Inflate                                                             */

void
ws_inflater_init(ws_inflater *f, int window_bits, int no_context_takeover)
{
    memset(f, 0, sizeof(*f));
    /* A bigger window than the peer's is always safe; zlib wants >= 9. */
    f->window_bits = window_bits < 9 ? 9 : window_bits > 15 ? 15 : window_bits;
    f->no_context_takeover = no_context_takeover != 0;
}

enum ws_inflate_result
ws_inflate(ws_inflater *f, const uint8_t *in, size_t n, size_t *in_used,
           uint8_t *out, size_t room, size_t *out_used)
{
    z_stream *zs = &f->zs;
    size_t in_left = n, out_left = room;
    enum ws_inflate_result res = WS_INF_OK;

    static const uint8_t nothing[1] = {0};

    *in_used = *out_used = 0;
    if (in == NULL)
        in = nothing;  /* n == 0: pointer arithmetic on NULL is undefined */
    if (!f->ready) {
        memset(zs, 0, sizeof(*zs));
        if (inflateInit2(zs, -f->window_bits) != Z_OK)
            return WS_INF_NOMEM;
        f->ready = 1;
    }
    /* Called with no input too: zlib may hold output it could not write
       into a full buffer. avail_in/avail_out are uInt: 1 GiB at a time. */
    while (out_left) {
        uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        uInt co = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
        int r, progress;
        zs->next_in = (Bytef *)(uintptr_t)(in + (n - in_left));
        zs->avail_in = ci;
        zs->next_out = out + (room - out_left);
        zs->avail_out = co;
        r = inflate(zs, Z_SYNC_FLUSH);
        progress = zs->avail_in != ci || zs->avail_out != co;
        in_left -= ci - zs->avail_in;
        out_left -= co - zs->avail_out;
        if (progress)
            f->after_final = 0;
        if (r == Z_STREAM_END) {
            /* A final block (BFINAL): what follows starts a new stream. */
            inflateReset(zs);
            f->after_final = 1;
            if (!in_left)
                break;
            continue;
        }
        if (r == Z_MEM_ERROR) {
            res = WS_INF_NOMEM;
            break;
        }
        if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR) {
            res = WS_INF_BAD;
            break;
        }
        if (!in_left && zs->avail_out)
            break;  /* everything is out */
        if (!progress) {
            if (in_left && out_left)
                res = WS_INF_BAD;  /* zlib is stuck: never loop on it */
            break;
        }
    }
    *in_used = n - in_left;
    *out_used = room - out_left;
    if (res == WS_INF_OK && (in_left || !out_left))
        res = WS_INF_FULL;
    return res;
}

int
ws_inflater_at_block_boundary(const ws_inflater *f)
{
    /* zlib sets bit 128 of data_type when it waits for a block header. */
    return !f->ready || f->after_final || (f->zs.data_type & 128) != 0;
}

void
ws_inflater_end_message(ws_inflater *f)
{
    f->after_final = 0;
    if (f->no_context_takeover)
        ws_inflater_free(f);
}

void
ws_inflater_free(ws_inflater *f)
{
    if (f->ready) {
        inflateEnd(&f->zs);
        f->ready = 0;
    }
}

/* ------------------------------------------------------------------ */
/* Deflate                                                             */

void
ws_deflater_init(ws_deflater *d, int window_bits, int mem_level, int level)
{
    memset(d, 0, sizeof(*d));
    d->window_bits = window_bits < 9 ? 9 : window_bits > 15 ? 15 : window_bits;
    d->mem_level = mem_level < 1 ? 1 : mem_level > 9 ? 9 : mem_level;
    d->level = level < 0 || level > 9 ? Z_DEFAULT_COMPRESSION : level;
}

size_t
ws_deflate_bound(ws_deflater *d, size_t n)
{
    (void)d;
    /* zlib's conservative bound for any parameters (a small memLevel makes
       small stored blocks, 5 bytes each), plus the sync flush's empty
       block and a margin. */
    return n + (n >> 3) + (n >> 6) + 64;
}

size_t
ws_deflate_message(ws_deflater *d, const uint8_t *in, size_t n, uint8_t *out,
                   size_t room, int reset)
{
    z_stream *zs = &d->zs;
    size_t in_left = n, done;
    int r;

    if (!d->ready) {
        memset(zs, 0, sizeof(*zs));
        if (deflateInit2(zs, d->level, Z_DEFLATED, -d->window_bits, d->mem_level,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return (size_t)-1;
        d->ready = 1;
    }
    zs->next_out = out;
    for (;;) {
        uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        size_t out_left = room - (size_t)(zs->next_out - out);
        zs->next_in = (Bytef *)(uintptr_t)(in + (n - in_left));
        zs->avail_in = ci;
        zs->avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
        r = deflate(zs, in_left > ci ? Z_NO_FLUSH : Z_SYNC_FLUSH);
        in_left -= ci - zs->avail_in;
        if (r == Z_STREAM_ERROR)
            return (size_t)-1;
        if (in_left == 0 && zs->avail_out > 0)
            break;  /* flushed: nothing is left in zlib */
        if (zs->avail_out == 0 && (size_t)(zs->next_out - out) >= room)
            return (size_t)-1;  /* cannot happen with room >= the bound */
    }
    done = (size_t)(zs->next_out - out);
    /* Section 7.2.1: remove the 00 00 FF FF the sync flush ended with. */
    if (done >= 4 && memcmp(out + done - 4, ws_pmd_tail, 4) == 0)
        done -= 4;
    if (reset)
        deflateReset(zs);
    return done;
}

void
ws_deflater_free(ws_deflater *d)
{
    if (d->ready) {
        deflateEnd(&d->zs);
        d->ready = 0;
    }
}
