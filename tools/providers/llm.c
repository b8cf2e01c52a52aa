/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "voice_json.h"

#include "clock.h"
#include "conf.h"
#include "json.h"
#include "llm.h"


#define VP_LLM_USER_MAX   4096            /* bytes of a user message read */
#define VP_LLM_ECHO_MAX   200
#define VP_LLM_REPLY_MAX  2048
#define VP_LLM_WORDS_MAX  64
#define VP_LLM_ARGS_MAX   256
#define VP_LLM_PIECE      4               /* bytes of arguments an event */


typedef struct {
    const char         *keywords[20];   /* "word", or "prefix*" */
    const char         *answer;
} vp_llm_faq_t;


/* the functions the request offers, of those the shop knows */

typedef struct {
    int                 check_order;
    int                 end_call;
    char                transfer[64];   /* the first destination; "": none */
} vp_llm_tools_t;


/* a function the reply calls */

typedef struct {
    const char         *name;
    char                args[VP_LLM_ARGS_MAX];
} vp_llm_call_t;


static size_t vp_llm_user_text(yajl_val msg, char *out, size_t cap);
static void vp_llm_offered(yajl_val root, vp_llm_tools_t *tools);
static size_t vp_llm_results(yajl_val msgs, char *out, size_t cap);
static size_t vp_llm_result(const char *name, const char *content,
    char *out, size_t cap);
static size_t vp_llm_faq_reply(const char *text, char *out, size_t cap,
    int *entry);
static int vp_llm_faq_call(int entry, const char *text,
    const vp_llm_tools_t *tools, char *reply, size_t cap, size_t *len,
    vp_llm_call_t *call);
static size_t vp_llm_digits(const char *text, char *out, size_t cap);
static int vp_llm_faq_match(const char *text);
static int vp_llm_keyword(const char *word, const char *kw);
static int vp_llm_sse(vp_http_conn_t *c, const char *id, const char *model,
    const char *delta, size_t delta_len, const char *finish);
static int vp_llm_sse_call(vp_http_conn_t *c, const char *id,
    const char *model, const char *call_id, const vp_llm_call_t *call);


/*
 * The shop.  An entry wins by the number of words of the caller's last
 * message that match its keywords (ties: the earlier entry), so that
 * recognition errors in some words still leave enough to match.  The
 * order also gives the keypad menu: key 1 is hours, 2 location, ...
 */

enum {
    vp_llm_faq_human = 0,
    vp_llm_faq_order,
    vp_llm_faq_hours,
    vp_llm_faq_location,
    vp_llm_faq_prices,
    vp_llm_faq_delivery,
    vp_llm_faq_returns,
    vp_llm_faq_thanks,
    vp_llm_faq_greeting,
    vp_llm_faq_n
};

static const vp_llm_faq_t  vp_llm_faq[vp_llm_faq_n] = {

    { { "human*", "person", "people", "agent*", "operator*",
        "representative*", "someone", "somebody", "staff", "manager*",
        "colleague*", "real", NULL },
      "Of course, I will put you through to a member of our team. "
      "Please stay on the line." },

    { { "order*", "track*", "number", "status", "shipped", NULL },
      "I am sorry, I cannot look up orders on this line." },

    { { "hour*", "open*", "close", "closed", "closing", "time*", "when",
        "weekend*", "saturday*", "sunday*", "monday*", "ours", NULL },
      "Our opening hours are Monday to Friday from 9 am to 6 pm, and "
      "Saturday from 10 am to 4 pm. We are closed on Sundays." },

    { { "where", "locat*", "address*", "find", "direction*", "street",
        "closest", "nearest", "situated", "based", "park*", "map", NULL },
      "We are at 42 Market Street, right next to the central station. "
      "There is free parking behind the shop." },

    { { "price*", "cost*", "much", "expensive", "cheap*", "pay*", "fee*",
        "charge*", "dollar*", "money", NULL },
      "Most of our items cost between 5 and 50 dollars. "
      "We also have a discount for students on Mondays." },

    { { "deliver*", "ship*", "send*", "post*", "arrive*", "courier*",
        "parcel*", "package*", NULL },
      "We deliver within two working days. Delivery is free on orders "
      "over 30 dollars, otherwise it costs 5 dollars." },

    { { "return*", "refund*", "exchange*", "broken", "damaged", "faulty",
        "wrong", "back", NULL },
      "You can return any item within 30 days for a full refund. "
      "Just bring it to the shop with your receipt." },

    { { "thank*", "thanks", "bye", "goodbye", "cheers", "great",
        "perfect", NULL },
      "You are welcome! Thank you for calling, and have a lovely day. "
      "Goodbye!" },

    { { "hello", "hi", "hey", "morning", "afternoon", "evening", "good",
        NULL },
      "Hello, and thanks for calling the corner shop! "
      "How can I help you today?" },
};


/*
 * A reply: to the caller's last words, or, when the last messages are
 * the results of the functions the shop called, to those.  A reply may
 * call one function, after its words, as OpenAI's models do.
 */

void
vp_llm_handle(vp_http_conn_t *c)
{
    int              stream, called, entry;
    char             user[VP_LLM_USER_MAX], reply[VP_LLM_REPLY_MAX], id[64];
    char             model[400], call_id[80], *body;
    size_t           i, ulen, rlen, n, k;
    yajl_val         root, msgs, v, last;
    const char      *s, *p, *q;
    vp_llm_call_t    call;
    vp_llm_tools_t   tools;

    static const char  *path_messages[] = { "messages", NULL };
    static const char  *path_stream[] = { "stream", NULL };
    static unsigned     serial;

    root = vp_json_body(c);
    if (root == NULL) {
        return;
    }

    msgs = yajl_tree_get(root, path_messages, yajl_t_array);
    if (msgs == NULL) {
        vp_http_error(c, 400, "\"messages\" must be an array");
        yajl_tree_free(root);
        return;
    }

    vp_llm_offered(root, &tools);

    /* the caller's last words; none yet: the call has just started */

    ulen = 0;
    user[0] = '\0';

    for (i = msgs->u.array.len; i-- > 0; ) {
        s = vp_json_str(msgs->u.array.values[i], "role");

        if (s && strcmp(s, "user") == 0) {
            ulen = vp_llm_user_text(msgs->u.array.values[i], user,
                                    sizeof(user));
            break;
        }
    }

    v = yajl_tree_get(root, path_stream, yajl_t_any);
    stream = YAJL_IS_TRUE(v);

    s = vp_json_str(root, "model");
    if (s == NULL) {
        s = "voice-providers-faq";
    }

    n = strlen(s);
    k = voice_json_escape((uint8_t *) model, (const uint8_t *) s,
                          n > 64 ? 64 : n);
    model[k] = '\0';

    snprintf(id, sizeof(id), "chatcmpl-vp%d-%u", (int) getpid(), ++serial);
    snprintf(call_id, sizeof(call_id), "call_vp%d_%u", (int) getpid(),
             serial);

    last = msgs->u.array.len
           ? msgs->u.array.values[msgs->u.array.len - 1] : NULL;
    s = last ? vp_json_str(last, "role") : NULL;
    called = 0;

    if (s && strcmp(s, "tool") == 0) {
        rlen = vp_llm_results(msgs, reply, sizeof(reply));

    } else {
        rlen = vp_llm_faq_reply(user, reply, sizeof(reply), &entry);
        called = vp_llm_faq_call(entry, user, &tools, reply, sizeof(reply),
                                 &rlen, &call);
    }

    yajl_tree_free(root);

    vp_http_note(c, "user", user, ulen);
    vp_http_note(c, "reply", reply, rlen);

    if (called) {
        vp_http_note(c, "call", call.name, strlen(call.name));
    }

    if (!stream) {
        k = voice_json_escape(NULL, (const uint8_t *) reply, rlen);
        n = k + strlen(model) + 2 * VP_LLM_ARGS_MAX + 768;

        body = malloc(n);
        if (body == NULL) {
            vp_http_error(c, 500, "out of memory");
            return;
        }

        k = snprintf(body, n, "{\"id\":\"%s\",\"object\":\"chat.completion\","
                     "\"created\":%ld,\"model\":\"%s\",\"choices\":[{"
                     "\"index\":0,\"message\":{\"role\":\"assistant\","
                     "\"content\":\"", id, (long) time(NULL), model);
        k += voice_json_escape((uint8_t *) body + k,
                               (const uint8_t *) reply, rlen);

        if (called) {
            k += snprintf(body + k, n - k, "\",\"tool_calls\":[{\"id\":\"%s\","
                          "\"type\":\"function\",\"function\":{\"name\":"
                          "\"%s\",\"arguments\":\"", call_id, call.name);
            k += voice_json_escape((uint8_t *) body + k,
                                   (const uint8_t *) call.args,
                                   strlen(call.args));
            k += snprintf(body + k, n - k, "\"}}]},\"finish_reason\":"
                          "\"tool_calls\"}]}\n");

        } else {
            k += snprintf(body + k, n - k,
                          "\"},\"finish_reason\":\"stop\"}]}\n");
        }

        vp_http_respond(c, 200, "application/json", body, k);
        free(body);
        return;
    }

    if (vp_http_stream_start(c, "text/event-stream",
                        "Cache-Control: no-cache\r\n"
                        "X-Accel-Buffering: no\r\n") != 0)
    {
        return;
    }

    if (vp_llm_sse(c, id, model, "{\"role\":\"assistant\",\"content\":\"\"}",
               0, "null") != 0)
    {
        return;
    }

    /* each word with the spaces after it, as a model's tokens come */

    for (p = reply; *p; p = q) {
        q = p + strcspn(p, " ");
        q += strspn(q, " ");

        if (p != reply) {
            vp_clock_sleep_ms(vp_conf.word_delay);
        }

        if (vp_llm_sse(c, id, model, p, q - p, NULL) != 0) {
            return;
        }
    }

    if (called && vp_llm_sse_call(c, id, model, call_id, &call) != 0) {
        return;
    }

    if (vp_llm_sse(c, id, model, "{}", 0,
                   called ? "\"tool_calls\"" : "\"stop\"") != 0)
    {
        return;
    }

    if (vp_http_stream_write(c, "data: [DONE]\n\n", 14) != 0) {
        return;
    }

    vp_http_stream_end(c);
}


/* which of the shop's functions the request's "tools" offer */

static void
vp_llm_offered(yajl_val root, vp_llm_tools_t *tools)
{
    size_t       i, n;
    yajl_val     list, name, dest;
    const char  *s;

    static const char  *path_tools[] = { "tools", NULL };
    static const char  *path_name[] = { "function", "name", NULL };
    static const char  *path_enum[] = { "function", "parameters",
                                        "properties", "destination", "enum",
                                        NULL };

    memset(tools, 0, sizeof(vp_llm_tools_t));

    list = yajl_tree_get(root, path_tools, yajl_t_array);

    for (i = 0; list && i < list->u.array.len; i++) {
        name = yajl_tree_get(list->u.array.values[i], path_name,
                             yajl_t_string);
        if (name == NULL) {
            continue;
        }

        s = name->u.string;

        if (strcmp(s, "check_order") == 0) {
            tools->check_order = 1;

        } else if (strcmp(s, "end_call") == 0) {
            tools->end_call = 1;

        } else if (strcmp(s, "transfer_call") == 0) {
            dest = yajl_tree_get(list->u.array.values[i], path_enum,
                                 yajl_t_array);

            if (dest && dest->u.array.len
                && YAJL_IS_STRING(dest->u.array.values[0]))
            {
                n = snprintf(tools->transfer, sizeof(tools->transfer), "%s",
                             YAJL_GET_STRING(dest->u.array.values[0]));

                if (n >= sizeof(tools->transfer)) {
                    tools->transfer[0] = '\0';
                }
            }
        }
    }
}


/*
 * The results after the last assistant message that called functions,
 * each in words; the name of each call is found by its id
 */

static size_t
vp_llm_results(yajl_val msgs, char *out, size_t cap)
{
    size_t       i, j, len, from;
    yajl_val     m, calls, cid, name;
    const char  *s, *id, *content;

    static const char  *path_calls[] = { "tool_calls", NULL };
    static const char  *path_id[] = { "id", NULL };
    static const char  *path_name[] = { "function", "name", NULL };

    calls = NULL;
    from = 0;

    for (i = msgs->u.array.len; i-- > 0; ) {
        calls = yajl_tree_get(msgs->u.array.values[i], path_calls,
                              yajl_t_array);
        if (calls) {
            from = i + 1;
            break;
        }
    }

    len = 0;
    out[0] = '\0';

    for (i = from; calls && i < msgs->u.array.len; i++) {
        m = msgs->u.array.values[i];
        s = vp_json_str(m, "role");
        id = vp_json_str(m, "tool_call_id");
        content = vp_json_str(m, "content");

        if (s == NULL || strcmp(s, "tool") != 0 || id == NULL
            || content == NULL)
        {
            continue;
        }

        for (j = 0; j < calls->u.array.len; j++) {
            cid = yajl_tree_get(calls->u.array.values[j], path_id,
                                yajl_t_string);
            name = yajl_tree_get(calls->u.array.values[j], path_name,
                                 yajl_t_string);

            if (cid && name && strcmp(cid->u.string, id) == 0) {
                len += vp_llm_result(name->u.string, content,
                                     out + len, cap - len);
                break;
            }
        }
    }

    while (len && out[len - 1] == ' ') {
        out[--len] = '\0';
    }

    if (len == 0) {
        len = snprintf(out, cap, "Done. Anything else?");
    }

    return len < cap ? len : cap - 1;
}


/* one result in words, with a space after */

static size_t
vp_llm_result(const char *name, const char *content, char *out, size_t cap)
{
    int          n;
    yajl_val     v;
    const char  *err, *status, *order, *arrives;

    v = vp_json_parse((const uint8_t *) content, strlen(content), &err);

    status = v ? vp_json_str(v, "status") : NULL;
    order = v ? vp_json_str(v, "order_number") : NULL;
    arrives = v ? vp_json_str(v, "arrives") : NULL;
    err = v ? vp_json_str(v, "error") : "no result";

    if (strcmp(name, "check_order") == 0) {
        if (err || status == NULL) {
            n = snprintf(out, cap, "Sorry, I could not find that order. "
                         "Could you tell me the number again? ");

        } else {
            n = snprintf(out, cap, "Order %s is %s%s%s. Anything else? ",
                         order ? order : "", status,
                         arrives ? ", and arrives " : "",
                         arrives ? arrives : "");
        }

    } else if (strcmp(name, "transfer_call") == 0) {
        n = snprintf(out, cap, err ? "Sorry, I could not put you through "
                                     "right now. Can I help with anything "
                                     "else? "
                                   : "Putting you through now. ");

    } else if (strcmp(name, "end_call") == 0) {
        n = snprintf(out, cap, "Goodbye! ");

    } else {
        n = snprintf(out, cap, "Done. ");
    }

    if (v) {
        yajl_tree_free(v);
    }

    return (n > 0 && (size_t) n < cap) ? (size_t) n : 0;
}


/*
 * The FAQ entry's function, if the request offers it: an order looked up
 * (with the digits the caller said), the goodbye ending the call, a
 * person asked for.  Returns 1 with the call, the reply's words changed
 * if they need to be.
 */

static int
vp_llm_faq_call(int entry, const char *text, const vp_llm_tools_t *tools,
    char *reply, size_t cap, size_t *len, vp_llm_call_t *call)
{
    int     n;
    char    digits[32];
    size_t  k;

    if (entry == vp_llm_faq_order && tools->check_order) {
        k = vp_llm_digits(text, digits, sizeof(digits));
        call->name = "check_order";
        snprintf(call->args, sizeof(call->args), "{\"order_number\":\"%.*s\"}",
                 (int) k, digits);
        n = snprintf(reply, cap, "Let me look that up.");

    } else if (entry == vp_llm_faq_thanks && tools->end_call) {
        call->name = "end_call";
        snprintf(call->args, sizeof(call->args), "{}");
        return 1;

    } else if (entry == vp_llm_faq_human && tools->transfer[0]) {
        call->name = "transfer_call";
        n = snprintf(call->args, sizeof(call->args),
                     "{\"destination\":\"");
        k = voice_json_escape(NULL, (const uint8_t *) tools->transfer,
                              strlen(tools->transfer));

        if ((size_t) n + k + 3 > sizeof(call->args)) {
            return 0;
        }

        n += voice_json_escape((uint8_t *) call->args + n,
                               (const uint8_t *) tools->transfer,
                               strlen(tools->transfer));
        snprintf(call->args + n, sizeof(call->args) - n, "\"}");
        return 1;

    } else {
        return 0;
    }

    *len = ((size_t) n < cap) ? (size_t) n : cap - 1;

    return 1;
}


/* the digits the caller said, as numerals or as words */

static size_t
vp_llm_digits(const char *text, char *out, size_t cap)
{
    int          d;
    size_t       n, w;
    const char  *p;

    static const char  *words[] = {
        "zero", "one", "two", "three", "four", "five", "six", "seven",
        "eight", "nine", "oh", NULL
    };

    n = 0;

    for (p = text; *p && n + 1 < cap; ) {
        if (*p >= '0' && *p <= '9') {
            out[n++] = *p++;
            continue;
        }

        d = -1;

        if (p == text || !((p[-1] >= 'a' && p[-1] <= 'z')
                           || (p[-1] >= 'A' && p[-1] <= 'Z')))
        {
            for (w = 0; words[w]; w++) {
                size_t  k = strlen(words[w]);

                if (strncasecmp(p, words[w], k) == 0
                    && !((p[k] >= 'a' && p[k] <= 'z')
                         || (p[k] >= 'A' && p[k] <= 'Z')))
                {
                    d = (w == 10) ? 0 : (int) w;
                    p += k;
                    break;
                }
            }
        }

        if (d >= 0) {
            out[n++] = (char) ('0' + d);
            continue;
        }

        p++;
    }

    out[n] = '\0';

    return n;
}


/* content: a string, or an array of {"type":"text","text"} parts */

static size_t
vp_llm_user_text(yajl_val msg, char *out, size_t cap)
{
    size_t       i, n, len;
    yajl_val     content, part;
    const char  *s;

    static const char  *path_content[] = { "content", NULL };

    len = 0;
    out[0] = '\0';

    content = yajl_tree_get(msg, path_content, yajl_t_any);

    if (YAJL_IS_STRING(content)) {
        s = YAJL_GET_STRING(content);
        n = strlen(s);
        len = (n < cap - 1) ? n : cap - 1;
        memcpy(out, s, len);

    } else if (YAJL_IS_ARRAY(content)) {
        for (i = 0; i < content->u.array.len; i++) {
            part = content->u.array.values[i];
            s = vp_json_str(part, "text");

            if (s == NULL) {
                continue;
            }

            n = strlen(s);
            if (len + n + 2 > cap) {
                break;
            }

            if (len) {
                out[len++] = ' ';
            }

            memcpy(out + len, s, n);
            len += n;
        }
    }

    out[len] = '\0';

    return len;
}


/*
 * The dialogue: a keypad digit, a FAQ entry, or the caller's words back
 * as a question.  Every sentence ends in . ! or ? for the splitter.
 * *entry is the FAQ entry answered, or -1.
 */

static size_t
vp_llm_faq_reply(const char *text, char *out, size_t cap, int *entry)
{
    int          i, n;
    size_t       len;
    const char  *p;

    static const int  keypad[10] = {
        vp_llm_faq_human, vp_llm_faq_hours, vp_llm_faq_location,
        vp_llm_faq_prices, vp_llm_faq_delivery, vp_llm_faq_returns,
        -1, -1, -1, -1
    };

    p = strstr(text, "[caller pressed ");

    if (p) {
        p += 16;

        if (*p && p[1] == ']' && strchr("0123456789*#", *p)) {
            i = (*p >= '0' && *p <= '9') ? keypad[*p - '0'] : -1;
            *entry = i;

            if (i >= 0) {
                n = snprintf(out, cap, "You pressed %c. %s", *p,
                             vp_llm_faq[i].answer);

            } else {
                n = snprintf(out, cap, "You pressed %c. Press 1 for our "
                             "opening hours, 2 for our address, 3 for "
                             "prices, 4 for delivery, 5 for returns, or 0 "
                             "to talk to a person.", *p);
            }

            return ((size_t) n < cap) ? (size_t) n : cap - 1;
        }
    }

    i = vp_llm_faq_match(text);
    *entry = i;

    if (i >= 0) {
        n = snprintf(out, cap, "%s", vp_llm_faq[i].answer);
        return ((size_t) n < cap) ? (size_t) n : cap - 1;
    }

    while (*text == ' ' || *text == '\t' || *text == '\n') {
        text++;
    }

    len = strlen(text);

    while (len && strchr(" \t\r\n.?!,;:", text[len - 1])) {
        len--;
    }

    if (len == 0) {
        n = snprintf(out, cap, "%s", vp_llm_faq[vp_llm_faq_greeting].answer);
        return ((size_t) n < cap) ? (size_t) n : cap - 1;
    }

    /* a long echo is cut at a space, never inside a UTF-8 sequence */
    if (len > VP_LLM_ECHO_MAX) {
        len = VP_LLM_ECHO_MAX;

        while (len > 0 && text[len] != ' ') {
            len--;
        }

        if (len == 0) {
            len = VP_LLM_ECHO_MAX;
            while (len > 0 && ((unsigned char) text[len] & 0xc0) == 0x80) {
                len--;
            }
        }
    }

    n = snprintf(out, cap, "You said: %.*s? Could you tell me more?",
                 (int) len, text);

    return ((size_t) n < cap) ? (size_t) n : cap - 1;
}


/* the entry most of whose keywords are among the words, or -1 */

static int
vp_llm_faq_match(const char *text)
{
    int           i, k, hits, best, best_hits, nwords;
    char          words[VP_LLM_WORDS_MAX][32];
    size_t        n;
    const char   *p;
    unsigned char  ch;

    nwords = 0;
    p = text;

    while (*p && nwords < VP_LLM_WORDS_MAX) {
        n = 0;

        for ( ;; ) {
            ch = (unsigned char) *p;

            if (ch >= 'A' && ch <= 'Z') {
                ch += 'a' - 'A';

            } else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
                         || ch == '\''))
            {
                break;
            }

            if (n < sizeof(words[0]) - 1) {
                words[nwords][n++] = (char) ch;
            }

            p++;
        }

        if (n) {
            words[nwords++][n] = '\0';
        }

        if (*p) {
            p++;
        }
    }

    best = -1;
    best_hits = 0;

    for (i = 0; i < vp_llm_faq_n; i++) {
        hits = 0;

        for (k = 0; k < nwords; k++) {
            const char  *const *kw;

            for (kw = vp_llm_faq[i].keywords; *kw; kw++) {
                if (vp_llm_keyword(words[k], *kw)) {
                    hits++;
                    break;
                }
            }
        }

        if (hits > best_hits) {
            best = i;
            best_hits = hits;
        }
    }

    return best;
}


static int
vp_llm_keyword(const char *word, const char *kw)
{
    size_t  n;

    n = strlen(kw);

    if (n && kw[n - 1] == '*') {
        return strncmp(word, kw, n - 1) == 0;
    }

    return strcmp(word, kw) == 0;
}


/*
 * One chat.completion.chunk: delta_len 0 gives delta as a JSON object,
 * else the delta is {"content": the text}.
 */

static int
vp_llm_sse(vp_http_conn_t *c, const char *id, const char *model,
    const char *delta, size_t delta_len, const char *finish)
{
    char    buf[8192];
    size_t  n;

    n = snprintf(buf, sizeof(buf), "data: {\"id\":\"%s\",\"object\":"
                 "\"chat.completion.chunk\",\"created\":%ld,\"model\":"
                 "\"%s\",\"choices\":[{\"index\":0,\"delta\":",
                 id, (long) time(NULL), model);

    if (delta_len == 0) {
        n += snprintf(buf + n, sizeof(buf) - n, "%s", delta);

    } else {
        if (voice_json_escape(NULL, (const uint8_t *) delta, delta_len)
            > sizeof(buf) - n - 128)
        {
            delta_len = (sizeof(buf) - n - 128) / 6;
        }

        n += snprintf(buf + n, sizeof(buf) - n, "{\"content\":\"");
        n += voice_json_escape((uint8_t *) buf + n, (const uint8_t *) delta,
                               delta_len);
        n += snprintf(buf + n, sizeof(buf) - n, "\"}");
    }

    n += snprintf(buf + n, sizeof(buf) - n, ",\"finish_reason\":%s}]}\n\n",
                  finish ? finish : "null");

    if (n >= sizeof(buf)) {
        return -1;
    }

    return vp_http_stream_write(c, buf, n);
}


/*
 * A call as OpenAI streams it: its id, type and name with empty
 * arguments first, then the arguments a few bytes an event
 */

static int
vp_llm_sse_call(vp_http_conn_t *c, const char *id, const char *model,
    const char *call_id, const vp_llm_call_t *call)
{
    char         delta[512];
    size_t       n, k;
    const char  *p, *end;

    snprintf(delta, sizeof(delta), "{\"tool_calls\":[{\"index\":0,\"id\":"
             "\"%s\",\"type\":\"function\",\"function\":{\"name\":\"%s\","
             "\"arguments\":\"\"}}]}", call_id, call->name);

    if (vp_llm_sse(c, id, model, delta, 0, NULL) != 0) {
        return -1;
    }

    end = call->args + strlen(call->args);

    for (p = call->args; p < end; p += k) {
        k = (size_t) (end - p) < VP_LLM_PIECE ? (size_t) (end - p)
                                              : VP_LLM_PIECE;

        n = snprintf(delta, sizeof(delta), "{\"tool_calls\":[{\"index\":0,"
                     "\"function\":{\"arguments\":\"");
        n += voice_json_escape((uint8_t *) delta + n, (const uint8_t *) p, k);
        snprintf(delta + n, sizeof(delta) - n, "\"}}]}");

        if (vp_llm_sse(c, id, model, delta, 0, NULL) != 0) {
            return -1;
        }
    }

    return 0;
}
