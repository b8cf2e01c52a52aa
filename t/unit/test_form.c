/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "unit.h"
#include "voice_form.h"


static void
test_form_parse(void)
{
    long                n;
    char                body[] = "a=1&&b=x+y%20z&empty=&novalue&c=%41%2b%2F"
                                 "&%3D=%26";
    char                bad1[] = "a=%4";
    char                bad2[] = "a=%zz";
    char                bad3[] = "a=%";
    char                three[] = "a=1&b=2&c=3";
    voice_form_param_t  p[16];

    n = voice_form_parse((uint8_t *) body, strlen(body), p, 16);
    CHECK_INT(n, 6);
    CHECK_MEM(p[0].name, p[0].name_len, "a", 1);
    CHECK_MEM(p[0].value, p[0].value_len, "1", 1);
    CHECK_MEM(p[1].name, p[1].name_len, "b", 1);
    CHECK_MEM(p[1].value, p[1].value_len, "x y z", 5);
    CHECK_MEM(p[2].name, p[2].name_len, "empty", 5);
    CHECK_INT(p[2].value_len, 0);
    CHECK_MEM(p[3].name, p[3].name_len, "novalue", 7);
    CHECK_INT(p[3].value_len, 0);
    CHECK_MEM(p[4].value, p[4].value_len, "A+/", 3);
    CHECK_MEM(p[5].name, p[5].name_len, "=", 1);
    CHECK_MEM(p[5].value, p[5].value_len, "&", 1);

    CHECK_INT(voice_form_parse((uint8_t *) bad1, strlen(bad1), p, 16), -1);
    CHECK_INT(voice_form_parse((uint8_t *) bad2, strlen(bad2), p, 16), -1);
    CHECK_INT(voice_form_parse((uint8_t *) bad3, strlen(bad3), p, 16), -1);
    CHECK_INT(voice_form_parse((uint8_t *) "", 0, p, 16), 0);

    /* more pairs than room */
    CHECK_INT(voice_form_parse((uint8_t *) three, strlen(three), p, 2), -1);

    CHECK_INT(voice_form_count((const uint8_t *) "a=1&b=2&c=3", 11), 3);
    CHECK_INT(voice_form_count((const uint8_t *) "", 0), 1);
}


static void
test_sort(void)
{
    char                body[] = "b=2&a=2&a=10&a=1&ab=0";
    voice_form_param_t  p[8];
    long                n;

    n = voice_form_parse((uint8_t *) body, strlen(body), p, 8);
    CHECK_INT(n, 5);

    voice_form_sort(p, n);

    /* by name, then by value, bytewise: "a" < "ab", "1" < "10" < "2" */
    CHECK_MEM(p[0].value, p[0].value_len, "1", 1);
    CHECK_MEM(p[1].value, p[1].value_len, "10", 2);
    CHECK_MEM(p[2].value, p[2].value_len, "2", 1);
    CHECK_MEM(p[3].name, p[3].name_len, "ab", 2);
    CHECK_MEM(p[4].name, p[4].name_len, "b", 1);
}


int
main(void)
{
    test_form_parse();
    test_sort();

    UNIT_DONE("form");
}
