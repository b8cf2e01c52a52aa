/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_ws.h"


enum {
    voice_ws_header = 0,
    voice_ws_payload,
    voice_ws_failed
};


static int voice_ws_header_done(voice_ws_parser_t *p, voice_ws_event_t *ev);
static int voice_ws_frame_done(voice_ws_parser_t *p, voice_ws_event_t *ev);
static int voice_ws_fail(voice_ws_parser_t *p, voice_ws_event_t *ev,
    unsigned code);
static int voice_ws_close_code_valid(unsigned code);


void
voice_ws_parser_init(voice_ws_parser_t *p, int server, uint8_t *msg,
    size_t msg_cap)
{
    memset(p, 0, sizeof(voice_ws_parser_t));

    p->server = server;
    p->msg = msg;
    p->msg_cap = msg_cap;
    p->hdr_need = 2;
}


int
voice_ws_parse(voice_ws_parser_t *p, const uint8_t *in, size_t len,
    size_t *consumed, voice_ws_event_t *ev)
{
    int             rc;
    size_t          n;
    uint8_t        *dst;
    const uint8_t  *start, *end;

    start = in;
    end = in + len;

    memset(ev, 0, sizeof(voice_ws_event_t));

    while (p->state != voice_ws_failed) {

        if (p->state == voice_ws_header) {

            if (in == end) {
                break;
            }

            n = p->hdr_need - p->hdr_len;
            n = ((size_t) (end - in) < n) ? (size_t) (end - in) : n;

            memcpy(p->hdr + p->hdr_len, in, n);
            p->hdr_len += n;
            in += n;

            if (p->hdr_len < p->hdr_need) {
                break;
            }

            rc = voice_ws_header_done(p, ev);

            if (rc == VOICE_WS_ERROR) {
                *consumed = in - start;
                return rc;
            }

            if (p->state == voice_ws_header) {
                /* the header grew: extended length or mask follows */
                continue;
            }

            if (p->len > 0) {
                continue;
            }

            /* an empty payload is complete at once */

        } else {

            n = (size_t) (end - in);

            if ((uint64_t) n > p->len - p->got) {
                n = (size_t) (p->len - p->got);
            }

            if (n == 0 && p->got < p->len) {
                break;
            }

            dst = (p->opcode & 0x8) ? p->control + p->got
                                    : p->msg + p->msg_len + p->got;

            if (p->masked) {
                /* unmasked as it is copied: one pass over the payload */
                voice_ws_mask_copy(dst, in, n, p->mask, (size_t) p->got);

            } else {
                memcpy(dst, in, n);
            }

            p->got += n;
            in += n;

            if (p->got < p->len) {
                break;
            }
        }

        rc = voice_ws_frame_done(p, ev);

        if (rc != VOICE_WS_AGAIN) {
            *consumed = in - start;
            return rc;
        }
    }

    *consumed = in - start;

    if (p->state == voice_ws_failed) {
        ev->close_code = VOICE_WS_CLOSE_PROTOCOL_ERROR;
        return VOICE_WS_ERROR;
    }

    return VOICE_WS_AGAIN;
}


/* the first 2 bytes, then the extended length and mask key */

static int
voice_ws_header_done(voice_ws_parser_t *p, voice_ws_event_t *ev)
{
    size_t    need;
    uint64_t  len;
    int       i;

    if (p->hdr_need == 2) {
        if (p->hdr[0] & 0x70) {
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        p->fin = (p->hdr[0] & 0x80) != 0;
        p->opcode = p->hdr[0] & 0x0f;
        p->masked = (p->hdr[1] & 0x80) != 0;

        switch (p->opcode) {

        case VOICE_WS_OP_CONT:
            if (p->msg_opcode == 0) {
                return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
            }
            break;

        case VOICE_WS_OP_TEXT:
        case VOICE_WS_OP_BINARY:
            if (p->msg_opcode != 0) {
                return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
            }
            break;

        case VOICE_WS_OP_CLOSE:
        case VOICE_WS_OP_PING:
        case VOICE_WS_OP_PONG:
            if (!p->fin || (p->hdr[1] & 0x7f) > VOICE_WS_MAX_CONTROL) {
                return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
            }
            break;

        default:
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        if (p->masked != p->server) {
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        need = 2;

        switch (p->hdr[1] & 0x7f) {
        case 126:
            need += 2;
            break;
        case 127:
            need += 8;
            break;
        }

        if (p->masked) {
            need += 4;
        }

        if (need > 2) {
            p->hdr_need = need;
            return VOICE_WS_AGAIN;
        }
    }

    /* the whole header is here */

    len = p->hdr[1] & 0x7f;
    i = 2;

    if (len == 126) {
        len = (uint64_t) p->hdr[2] << 8 | p->hdr[3];
        i = 4;

    } else if (len == 127) {
        if (p->hdr[2] & 0x80) {
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        len = 0;

        for (i = 2; i < 10; i++) {
            len = len << 8 | p->hdr[i];
        }
    }

    if (p->masked) {
        memcpy(p->mask, p->hdr + i, 4);
    }

    if (!(p->opcode & 0x8) && len > p->msg_cap - p->msg_len) {
        return voice_ws_fail(p, ev, VOICE_WS_CLOSE_TOO_BIG);
    }

    p->len = len;
    p->got = 0;
    p->state = voice_ws_payload;

    return VOICE_WS_AGAIN;
}


static int
voice_ws_frame_done(voice_ws_parser_t *p, voice_ws_event_t *ev)
{
    unsigned  code;

    p->state = voice_ws_header;
    p->hdr_len = 0;
    p->hdr_need = 2;

    switch (p->opcode) {

    case VOICE_WS_OP_PING:
    case VOICE_WS_OP_PONG:
        ev->data = p->control;
        ev->len = (size_t) p->len;
        return p->opcode == VOICE_WS_OP_PING ? VOICE_WS_PING : VOICE_WS_PONG;

    case VOICE_WS_OP_CLOSE:
        ev->data = p->control;
        ev->len = (size_t) p->len;

        if (p->len == 0) {
            ev->close_code = VOICE_WS_CLOSE_NO_STATUS;
            return VOICE_WS_CLOSE;
        }

        if (p->len == 1) {
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        code = (unsigned) p->control[0] << 8 | p->control[1];

        if (!voice_ws_close_code_valid(code)) {
            return voice_ws_fail(p, ev, VOICE_WS_CLOSE_PROTOCOL_ERROR);
        }

        ev->close_code = code;
        return VOICE_WS_CLOSE;
    }

    /* a data frame */

    if (p->opcode != VOICE_WS_OP_CONT) {
        p->msg_opcode = p->opcode;
    }

    p->msg_len += (size_t) p->len;

    if (!p->fin) {
        return VOICE_WS_AGAIN;
    }

    ev->opcode = p->msg_opcode;
    ev->data = p->msg;
    ev->len = p->msg_len;

    p->msg_opcode = 0;
    p->msg_len = 0;

    return VOICE_WS_MESSAGE;
}


static int
voice_ws_fail(voice_ws_parser_t *p, voice_ws_event_t *ev, unsigned code)
{
    p->state = voice_ws_failed;
    ev->close_code = code;

    return VOICE_WS_ERROR;
}


static int
voice_ws_close_code_valid(unsigned code)
{
    if (code >= VOICE_WS_CLOSE_NORMAL && code <= VOICE_WS_CLOSE_UNSUPPORTED) {
        return 1;
    }

    /* 1012 to 1014 came after RFC 6455, in IANA's registry */

    if (code >= VOICE_WS_CLOSE_INVALID_DATA
        && code <= VOICE_WS_CLOSE_BAD_GATEWAY)
    {
        return 1;
    }

    return code >= 3000 && code <= 4999;
}


size_t
voice_ws_frame_header(uint8_t *out, int opcode, int fin,
    uint64_t payload_len, const uint8_t *mask)
{
    int     i;
    size_t  n;

    out[0] = (uint8_t) ((fin ? 0x80 : 0) | (opcode & 0x0f));

    if (payload_len < 126) {
        out[1] = (uint8_t) payload_len;
        n = 2;

    } else if (payload_len < 65536) {
        out[1] = 126;
        out[2] = (uint8_t) (payload_len >> 8);
        out[3] = (uint8_t) payload_len;
        n = 4;

    } else {
        out[1] = 127;

        for (i = 0; i < 8; i++) {
            out[2 + i] = (uint8_t) (payload_len >> (56 - 8 * i));
        }

        n = 10;
    }

    if (mask) {
        out[1] |= 0x80;
        memcpy(out + n, mask, 4);
        n += 4;
    }

    return n;
}


void
voice_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4],
    size_t offset)
{
    voice_ws_mask_copy(data, data, len, mask, offset);
}


/*
 * Eight bytes at a time: the key, turned to the offset, repeats every
 * four bytes, so one 64-bit word of it fits every aligned step.  memcpy
 * makes the loads and stores of any alignment, and compilers make it a
 * plain move.
 */

void
voice_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t mask[4], size_t offset)
{
    size_t    i;
    uint8_t   key[8];
    uint64_t  k, w;

    i = 0;

    if (len >= 8) {
        for (i = 0; i < 8; i++) {
            key[i] = mask[(offset + i) & 3];
        }

        memcpy(&k, key, 8);

        for (i = 0; len - i >= 8; i += 8) {
            memcpy(&w, src + i, 8);
            w ^= k;
            memcpy(dst + i, &w, 8);
        }
    }

    for ( /* void */ ; i < len; i++) {
        dst[i] = src[i] ^ mask[(offset + i) & 3];
    }
}
