/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* the monotonic clock in milliseconds, and sleeping on it */

#ifndef VP_CLOCK_H
#define VP_CLOCK_H


double vp_clock_now_ms(void);
void vp_clock_sleep_ms(unsigned ms);

#endif /* VP_CLOCK_H */
