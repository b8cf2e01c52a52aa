/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The log escaper: every byte value against the rule written out here,
 * the length pass against the writing pass, and a line that tries to
 * forge another.
 */

#include "unit.h"
#include "voice_log.h"


static void
test_every_byte(void)
{
    char     want[8];
    size_t   n;
    uint8_t  in, out[VOICE_LOG_ESCAPED_LEN(1)];
    unsigned c;

    for (c = 0; c < 256; c++) {
        in = (uint8_t) c;

        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
            want[0] = (char) c;
            want[1] = '\0';

        } else {
            snprintf(want, sizeof(want), "\\x%02x", c);
        }

        n = voice_log_escape(out, &in, 1);
        CHECK_MEM(out, n, want, strlen(want));
        CHECK_INT(voice_log_escape(NULL, &in, 1), n);
        CHECK(n <= VOICE_LOG_ESCAPED_LEN(1));
    }
}


static void
test_forged_line(void)
{
    size_t       n;
    uint8_t      out[256];
    const char  *in = "CA1\n2030/01/01 00:00:00 [alert] \"x\" \\ \xc3\xa9\r";
    const char  *want = "CA1\\x0a2030/01/01 00:00:00 [alert] \\x22x\\x22 "
                        "\\x5c \\xc3\\xa9\\x0d";

    n = voice_log_escape(out, (const uint8_t *) in, strlen(in));
    CHECK_MEM(out, n, want, strlen(want));
    CHECK_INT(voice_log_escape(NULL, (const uint8_t *) in, strlen(in)), n);
    CHECK(memchr(out, '\n', n) == NULL);
}


static void
test_plain(void)
{
    size_t       n;
    uint8_t      out[128];
    const char  *sid = "CA0123456789abcdef0123456789abcdef";

    /* a real SID, and nothing, pass unchanged */

    n = voice_log_escape(out, (const uint8_t *) sid, strlen(sid));
    CHECK_MEM(out, n, sid, strlen(sid));
    CHECK_INT(voice_log_escape(out, (const uint8_t *) "", 0), 0);
}


int
main(void)
{
    test_every_byte();
    test_forged_line();
    test_plain();

    UNIT_DONE("log");
}
