/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Text from the peer (SIDs, media formats, parameters, URLs) made safe
 * for a log line: printable ASCII stays, everything else and the quote
 * and backslash become \xHH, so a value cannot end the line, forge one,
 * or close the quotes it is written in.
 */

#ifndef VOICE_LOG_H
#define VOICE_LOG_H

#include <stddef.h>
#include <stdint.h>


/* the longest escaped form of len bytes */
#define VOICE_LOG_ESCAPED_LEN(len)  ((len) * 4)


/*
 * Writes the escaped form of s into out and returns its length; with out
 * NULL, returns the length only.
 */
size_t voice_log_escape(uint8_t *out, const uint8_t *s, size_t len);

#endif /* VOICE_LOG_H */
