/*
 * qr.c - the QR code encoder of qr.h: byte mode, level M, versions 1-10.
 *
 * The steps follow ISO/IEC 18004:2015 in order: the bit stream (mode,
 * count, data, terminator, pad bytes), Reed-Solomon error correction over
 * GF(256) with the polynomial 0x11D per block, the blocks interleaved, the
 * function patterns drawn, the codewords placed in the two-column zigzag,
 * then the mask and the format (and version) information.
 */
#include "core/qr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"

/* Level M's error correction codewords per block and its number of blocks,
 * by version (index 0 unused): ISO/IEC 18004 table 9. */
static const uint8_t ecc_per_block[IZ_QR_VERSION_MAX + 1] = {0,  10, 16, 26, 18, 24,
                                                             16, 18, 22, 22, 26};
static const uint8_t num_blocks[IZ_QR_VERSION_MAX + 1] = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5};

#define RAW_MAX 346 /* codewords of version 10 */

/* Modules that carry codewords (data and error correction) in version v:
 * the whole square less the function patterns. */
static int raw_modules(int v)
{
    int n = (16 * v + 128) * v + 64;
    if (v >= 2) {
        int align = v / 7 + 2;
        n -= (25 * align - 10) * align - 55;
        if (v >= 7) n -= 36;
    }
    return n;
}

static int data_codewords(int v)
{
    return raw_modules(v) / 8 - ecc_per_block[v] * num_blocks[v];
}

/* ---- Reed-Solomon ----------------------------------------------------------- */

static uint8_t gf_mul(uint8_t x, uint8_t y)
{
    unsigned z = 0;
    for (int i = 7; i >= 0; i--) {
        z = (z << 1) ^ ((z >> 7) * 0x11D);
        z ^= ((y >> i) & 1u) * x;
    }
    return (uint8_t)z;
}

/* The generator polynomial of degree n (its coefficients but the leading 1,
 * highest first): the product of (x - 2^i) for i < n. */
static void rs_divisor(int n, uint8_t *div)
{
    memset(div, 0, (size_t)n);
    div[n - 1] = 1;
    uint8_t root = 1;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            div[j] = gf_mul(div[j], root);
            if (j + 1 < n) div[j] ^= div[j + 1];
        }
        root = gf_mul(root, 0x02);
    }
}

/* The n error correction codewords of len data codewords. */
static void rs_remainder(const uint8_t *data, int len, const uint8_t *div, int n, uint8_t *out)
{
    memset(out, 0, (size_t)n);
    for (int i = 0; i < len; i++) {
        uint8_t factor = data[i] ^ out[0];
        memmove(out, out + 1, (size_t)n - 1);
        out[n - 1] = 0;
        for (int j = 0; j < n; j++)
            out[j] ^= gf_mul(div[j], factor);
    }
}

/* ---- the symbol's layout --------------------------------------------------- */

typedef struct grid {
    iz_qr_t *q;
    uint8_t fn[IZ_QR_SIZE_MAX][IZ_QR_SIZE_MAX]; /* function module: not data, not masked */
} grid_t;

static void set_fn(grid_t *g, int x, int y, bool dark)
{
    g->q->dark[y][x] = dark;
    g->fn[y][x] = 1;
}

static void finder(grid_t *g, int cx, int cy)
{
    int n = g->q->size;
    for (int dy = -4; dy <= 4; dy++)
        for (int dx = -4; dx <= 4; dx++) {
            int x = cx + dx, y = cy + dy;
            int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
            if (x >= 0 && x < n && y >= 0 && y < n) set_fn(g, x, y, d != 2 && d != 4);
        }
}

static void alignment(grid_t *g, int cx, int cy)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
            set_fn(g, cx + dx, cy + dy, d != 1);
        }
}

/* The centres' coordinates of the alignment patterns of version v. */
static int align_positions(int v, int size, int *pos)
{
    if (v == 1) return 0;
    int n = v / 7 + 2;
    int step = (v * 8 + n * 3 + 5) / (n * 4 - 4) * 2;
    pos[0] = 6;
    for (int i = 0; i < n - 1; i++)
        pos[n - 1 - i] = size - 7 - i * step;
    return n;
}

/* The 15 format bits (level M is 00) for mask, drawn twice. */
static void format_bits(grid_t *g, int mask)
{
    int n = g->q->size;
    int data = mask; /* level M: 00 << 3 */
    int rem = data;
    for (int i = 0; i < 10; i++)
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    int bits = ((data << 10) | rem) ^ 0x5412;
#define BIT(i) (((bits >> (i)) & 1) != 0)
    for (int i = 0; i <= 5; i++)
        set_fn(g, 8, i, BIT(i));
    set_fn(g, 8, 7, BIT(6));
    set_fn(g, 8, 8, BIT(7));
    set_fn(g, 7, 8, BIT(8));
    for (int i = 9; i < 15; i++)
        set_fn(g, 14 - i, 8, BIT(i));
    for (int i = 0; i < 8; i++)
        set_fn(g, n - 1 - i, 8, BIT(i));
    for (int i = 8; i < 15; i++)
        set_fn(g, 8, n - 15 + i, BIT(i));
#undef BIT
    set_fn(g, 8, n - 8, true); /* the dark module */
}

static void version_bits(grid_t *g)
{
    int v = g->q->version, n = g->q->size;
    if (v < 7) return;
    int rem = v;
    for (int i = 0; i < 12; i++)
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
    long bits = (long)v << 12 | rem;
    for (int i = 0; i < 18; i++) {
        bool dark = ((bits >> i) & 1) != 0;
        int a = n - 11 + i % 3, b = i / 3;
        set_fn(g, a, b, dark);
        set_fn(g, b, a, dark);
    }
}

static void function_patterns(grid_t *g)
{
    int n = g->q->size;
    for (int i = 0; i < n; i++) {
        set_fn(g, 6, i, i % 2 == 0);
        set_fn(g, i, 6, i % 2 == 0);
    }
    finder(g, 3, 3);
    finder(g, n - 4, 3);
    finder(g, 3, n - 4);
    int pos[7];
    int k = align_positions(g->q->version, n, pos);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            if (!((i == 0 && j == 0) || (i == 0 && j == k - 1) || (i == k - 1 && j == 0)))
                alignment(g, pos[i], pos[j]);
    format_bits(g, 0); /* reserves the modules; the real bits come with the mask */
    version_bits(g);
}

/* The codewords in the zigzag: pairs of columns from the right, upwards
 * and downwards in turn, skipping the vertical timing column. */
static void place(grid_t *g, const uint8_t *cw, int ncw)
{
    int n = g->q->size;
    long i = 0, nbits = (long)ncw * 8;
    for (int right = n - 1; right >= 1; right -= 2) {
        if (right == 6) right = 5;
        for (int vert = 0; vert < n; vert++)
            for (int j = 0; j < 2; j++) {
                int x = right - j;
                bool up = ((right + 1) & 2) == 0;
                int y = up ? n - 1 - vert : vert;
                if (!g->fn[y][x] && i < nbits) {
                    g->q->dark[y][x] = (cw[i >> 3] >> (7 - (i & 7))) & 1;
                    i++;
                }
            }
    }
}

static bool mask_bit(int mask, int x, int y)
{
    switch (mask) {
    case 0:
        return (x + y) % 2 == 0;
    case 1:
        return y % 2 == 0;
    case 2:
        return x % 3 == 0;
    case 3:
        return (x + y) % 3 == 0;
    case 4:
        return (x / 3 + y / 2) % 2 == 0;
    case 5:
        return x * y % 2 + x * y % 3 == 0;
    case 6:
        return (x * y % 2 + x * y % 3) % 2 == 0;
    default:
        return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

/* XOR the mask over the data modules (applying it twice undoes it). */
static void apply_mask(grid_t *g, int mask)
{
    int n = g->q->size;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            if (!g->fn[y][x] && mask_bit(mask, x, y)) g->q->dark[y][x] ^= 1;
}

/* ---- the penalty ----------------------------------------------------------- */

/* Module (i, j) of a row (vertical false) or of a column (true). */
static int at(const iz_qr_t *q, bool vertical, int line, int k)
{
    return vertical ? q->dark[k][line] : q->dark[line][k];
}

long iz_qr_penalty(const iz_qr_t *q)
{
    static const uint8_t finder_like[2][11] = {{1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0},
                                               {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1}};
    int n = q->size;
    long p = 0, dark = 0;
    for (int v = 0; v < 2; v++)
        for (int line = 0; line < n; line++) {
            int run = 1; /* N1: a run of 5 or more of one colour */
            for (int k = 1; k <= n; k++) {
                if (k < n && at(q, v, line, k) == at(q, v, line, k - 1)) {
                    run++;
                    continue;
                }
                if (run >= 5) p += 3 + (run - 5);
                run = 1;
            }
            for (int k = 0; k + 11 <= n; k++) /* N3: 1:1:3:1:1 with 4 light on one side */
                for (int f = 0; f < 2; f++) {
                    int m = 0;
                    while (m < 11 && at(q, v, line, k + m) == finder_like[f][m])
                        m++;
                    if (m == 11) p += 40;
                }
        }
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int c = q->dark[y][x];
            dark += c;
            if (x + 1 < n && y + 1 < n && c == q->dark[y][x + 1] && c == q->dark[y + 1][x] &&
                c == q->dark[y + 1][x + 1])
                p += 3; /* N2: a 2x2 block of one colour */
        }
    long total = (long)n * n; /* N4: 10 for every whole 5% away from half dark */
    long diff = labs(100 * dark - 50 * total);
    p += diff / (5 * total) * 10;
    return p;
}

/* ---- encoding ------------------------------------------------------------- */

typedef struct bits {
    uint8_t *buf;
    int cap; /* bytes */
    long n;  /* bits written */
} bits_t;

static void put_bits(bits_t *b, unsigned value, int count)
{
    for (int i = count - 1; i >= 0; i--, b->n++)
        if ((value >> i) & 1u) b->buf[b->n >> 3] |= (uint8_t)(0x80u >> (b->n & 7));
}

int iz_qr_encode(const void *data, size_t len, int mask, iz_qr_t *out)
{
    if (mask < -1 || mask > 7 || (!data && len)) return IZ_EINVAL;
    int v = 1;
    /* mode (4 bits) + count (8 bits, 16 from version 10) + data */
    while (v <= IZ_QR_VERSION_MAX &&
           (long)4 + (v < 10 ? 8 : 16) + (long)len * 8 > (long)data_codewords(v) * 8)
        v++;
    if (v > IZ_QR_VERSION_MAX) return IZ_ETOOBIG;
    memset(out, 0, sizeof *out);
    out->version = v;
    out->size = 17 + 4 * v;

    uint8_t dat[RAW_MAX] = {0};
    int ndata = data_codewords(v);
    bits_t b = {dat, ndata, 0};
    put_bits(&b, 0x4, 4);
    put_bits(&b, (unsigned)len, v < 10 ? 8 : 16);
    for (size_t i = 0; i < len; i++)
        put_bits(&b, ((const uint8_t *)data)[i], 8);
    long cap = (long)ndata * 8;
    put_bits(&b, 0, (int)(cap - b.n < 4 ? cap - b.n : 4)); /* the terminator */
    b.n = (b.n + 7) / 8 * 8;
    for (uint8_t pad = 0xEC; b.n < cap; pad ^= 0xEC ^ 0x11)
        put_bits(&b, pad, 8);

    /* Blocks: the short ones first, each long one a data codeword longer. */
    int raw = raw_modules(v) / 8, nb = num_blocks[v], ecc = ecc_per_block[v];
    int nshort = nb - raw % nb, short_len = raw / nb;
    uint8_t div[32], rem[32], cw[RAW_MAX];
    rs_divisor(ecc, div);
    int k = 0, off = 0;
    uint8_t *blk_data[8];
    int blk_len[8];
    uint8_t blk_ecc[8][32];
    for (int i = 0; i < nb; i++) {
        blk_len[i] = short_len - ecc + (i < nshort ? 0 : 1);
        blk_data[i] = dat + off;
        rs_remainder(blk_data[i], blk_len[i], div, ecc, rem);
        memcpy(blk_ecc[i], rem, (size_t)ecc);
        off += blk_len[i];
    }
    for (int i = 0; i <= short_len - ecc; i++)
        for (int j = 0; j < nb; j++)
            if (i < blk_len[j]) cw[k++] = blk_data[j][i];
    for (int i = 0; i < ecc; i++)
        for (int j = 0; j < nb; j++)
            cw[k++] = blk_ecc[j][i];

    grid_t g;
    memset(g.fn, 0, sizeof g.fn);
    g.q = out;
    function_patterns(&g);
    place(&g, cw, k);
    if (mask < 0) {
        long best = -1;
        for (int m = 0; m < 8; m++) {
            apply_mask(&g, m);
            format_bits(&g, m);
            long p = iz_qr_penalty(out);
            if (best < 0 || p < best) {
                best = p;
                mask = m;
            }
            apply_mask(&g, m);
        }
    }
    apply_mask(&g, mask);
    format_bits(&g, mask);
    out->mask = mask;
    return 0;
}

size_t iz_qr_svg(const iz_qr_t *q, char *out, size_t outsz)
{
    size_t len = 0;
    int side = q->size + 8;
#define EMIT(...)                                                                                  \
    do {                                                                                           \
        int w_ = snprintf(out && len < outsz ? out + len : NULL,                                   \
                          out && len < outsz ? outsz - len : 0, __VA_ARGS__);                      \
        if (w_ > 0) len += (size_t)w_;                                                             \
    } while (0)
    EMIT("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
         "height=\"%d\" shape-rendering=\"crispEdges\">"
         "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
         side, side, side * 6, side * 6, side, side);
    for (int y = 0; y < q->size; y++)
        for (int x = 0; x < q->size;) {
            if (!q->dark[y][x]) {
                x++;
                continue;
            }
            int run = 0;
            while (x + run < q->size && q->dark[y][x + run])
                run++;
            EMIT("M%d %dh%dv1h-%dz", x + 4, y + 4, run, run);
            x += run;
        }
    EMIT("\"/></svg>\n");
#undef EMIT
    if (out && outsz) out[len < outsz ? len : outsz - 1] = '\0';
    return len;
}
