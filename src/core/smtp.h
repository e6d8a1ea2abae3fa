/* smtp.h - the SMTP client dialogue as a pure state machine (sans I/O)
 *
 * The machine owns no socket, no clock and no TLS object. An I/O adapter
 * drives it (nghttp2/BearSSL style):
 *
 *     smtp_config cfg = { .ehlo_name = "mxtls.example.org" };
 *     smtp_session *s = smtp_new(&cfg);
 *     for (;;) {
 *         switch (smtp_want(s)) {
 *         case SMTP_WANT_WRITE: {              // a command is ready
 *             const char *p; size_t n = smtp_output(s, &p);
 *             n = write_some(p, n);
 *             smtp_output_consumed(s, n);
 *             break;
 *         }
 *         case SMTP_WANT_READ:                 // arm the timer for smtp_phase(s)
 *             n = read_some(buf);              // on EOF: smtp_eof(s); on timer: smtp_timeout(s)
 *             r = smtp_feed(s, buf, n);        // keep buf[r..n) and feed it again later
 *             break;
 *         case SMTP_WANT_START_TLS:            // run the handshake on the socket now
 *             smtp_tls_done(s, handshake_ok);
 *             break;
 *         case SMTP_WANT_DONE:
 *             goto out;                        // read smtp_obs_get(s), then smtp_free(s)
 *         }
 *     }
 *
 * Rules the machine enforces (docs/smtp.md has the state diagram):
 * - One command at a time: a command is emitted only after the reply to the
 *   previous one (or the banner) has been read completely. PIPELINING is
 *   recorded, never used: the dialogue is short and RFC 3207 §4 forbids
 *   pipelining across STARTTLS anyway.
 * - smtp_feed consumes nothing while a command is waiting to be written
 *   (want() == WRITE): a server cannot answer a command it has not received,
 *   and reading ahead would let a peer's early bytes pass as a reply.
 * - STARTTLS injection defence (RFC 3207 §4.2, §5; CVE-2011-0411): bytes
 *   that follow the 220 reply to STARTTLS, in the same read or in any read
 *   before smtp_tls_done(), are consumed, counted, recorded as a
 *   "starttls-injection" finding and never interpreted. Everything learnt
 *   before TLS is kept for the report only; a fresh EHLO is sent over TLS and
 *   only its answer counts.
 * - After a malformed reply or a limit violation the stream cannot be
 *   trusted to be in step: the machine ends without QUIT (as OpenSMTPD's
 *   mta_session does on "Bad response" and "Input too long").
 * - After a refusal (4xx/5xx) it sends QUIT and waits for the reply or EOF.
 *
 * Everything stored is bounded by the limits in the config. */
#ifndef MXTLS_CORE_SMTP_H
#define MXTLS_CORE_SMTP_H

#include <stddef.h>
#include <sys/types.h>

#include "core/base.h"
#include "core/ehlo.h"
#include "core/reply.h"

#define SMTP_MAX_EHLO_NAME 255  /* RFC 5321 §4.5.3.1.2 */
#define SMTP_MAX_COMMAND 512    /* RFC 5321 §4.5.3.1.4: command line incl. CRLF */
#define SMTP_REASON_MAX 512
#define SMTP_MAX_FINDINGS 32
#define SMTP_FINDING_DETAIL_MAX 256
#define SMTP_INJECT_HEAD 64     /* first injected bytes kept verbatim */
#define SMTP_MAX_REJECTIONS 8

/* Suggested per-phase timeouts in seconds for adapters: Postfix's defaults
 * (smtp_helo_timeout, smtp_starttls_timeout, smtp_quit_timeout), which follow
 * RFC 5321 §4.5.3.2 (5 minutes for the greeting). A checking tool may
 * choose shorter ones; the machine itself has no clock. */
#define SMTP_TIMEOUT_BANNER 300
#define SMTP_TIMEOUT_EHLO 300
#define SMTP_TIMEOUT_STARTTLS 300
#define SMTP_TIMEOUT_TLS_HANDSHAKE 300
#define SMTP_TIMEOUT_QUIT 300

/* Negative returns of smtp_feed() and smtp_tls_done(). */
#define SMTP_ERR_NOMEM (-1) /* out of memory: the outcome is SMTP_OUTCOME_INTERNAL_ERROR */
#define SMTP_ERR_STATE (-2) /* the call is not valid now (e.g. feed after DONE) */

typedef struct smtp_config {
    const char *ehlo_name; /* required: the name announced in EHLO/HELO (copied) */
    int no_starttls;       /* 1: do not attempt STARTTLS even when offered; default attempt */
    int implicit_tls;      /* 1: TLS first, then the banner (port 465, RFC 8314 §3) */
    size_t max_line;       /* bytes per reply line incl. CRLF; 0 = 2048 */
    size_t max_lines;      /* lines per reply; 0 = 100 */
    size_t max_reply;      /* bytes per reply; 0 = 65536 */
    /* 1: when the dialogue ends in plaintext (STARTTLS not offered, or
     * no_starttls), send "MAIL FROM:<>" before QUIT and record the reply
     * (mail_code, mail_reply): does the server accept mail without TLS?
     * Nothing more is sent: no RCPT, no DATA, so no message is ever
     * submitted (mxtls audit, docs/audit.md). Default 0: never. */
    int mail_probe;
} smtp_config;

/* What the adapter must do next. A plain enum without typedef, so that the
 * function smtp_want() can carry the same name. */
enum smtp_want {
    SMTP_WANT_READ = 0,      /* feed received bytes */
    SMTP_WANT_WRITE = 1,     /* drain smtp_output() */
    SMTP_WANT_START_TLS = 2, /* run the TLS handshake, then smtp_tls_done() */
    SMTP_WANT_DONE = 3       /* finished: read the observations */
};

/* Phases, for the adapter's per-phase timeouts and for reports. Values are stable. */
typedef enum smtp_phase {
    SMTP_PHASE_BANNER = 0,        /* waiting for the greeting */
    SMTP_PHASE_EHLO = 1,          /* EHLO (or the HELO fallback) before TLS */
    SMTP_PHASE_STARTTLS = 2,      /* waiting for the reply to STARTTLS */
    SMTP_PHASE_TLS_HANDSHAKE = 3, /* the adapter runs the handshake */
    SMTP_PHASE_POST_TLS_EHLO = 4, /* EHLO (or HELO) over TLS, implicit TLS included */
    SMTP_PHASE_QUIT = 5,          /* waiting for the reply to QUIT */
    SMTP_PHASE_DONE = 6,
    SMTP_PHASE_MAIL = 7           /* the optional MAIL FROM:<> probe (smtp_config.mail_probe) */
} smtp_phase;

/* Outcomes. Stable values; only ever grow. */
typedef enum smtp_outcome {
    SMTP_OUTCOME_NONE = 0,                      /* not finished yet */
    SMTP_OUTCOME_OK_TLS = 1,                    /* EHLO/HELO accepted over TLS */
    SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS = 2,  /* dialogue fine, STARTTLS not offered */
    SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED = 3, /* offered, config says no_starttls */
    SMTP_OUTCOME_BANNER_REJECTED = 4,           /* 4xx/5xx greeting */
    SMTP_OUTCOME_EHLO_REJECTED = 5,             /* EHLO refused, no HELO fallback (4xx, 554) */
    SMTP_OUTCOME_EHLO_AND_HELO_REJECTED = 6,    /* EHLO refused 5xx, then HELO refused too */
    SMTP_OUTCOME_STARTTLS_REJECTED = 7,         /* STARTTLS answered 4xx/5xx */
    SMTP_OUTCOME_TLS_FAILED = 8,                /* the adapter reported a failed handshake */
    SMTP_OUTCOME_PROTOCOL_ERROR = 9,            /* malformed reply or unexpected code */
    SMTP_OUTCOME_LIMIT_EXCEEDED = 10,           /* line, line count or reply size limit */
    SMTP_OUTCOME_CONNECTION_CLOSED = 11,        /* EOF before the dialogue finished */
    SMTP_OUTCOME_TIMEOUT = 12,                  /* the adapter's timer fired */
    SMTP_OUTCOME_INTERNAL_ERROR = 13            /* out of memory */
} smtp_outcome;

/* How the QUIT exchange ended. */
typedef enum smtp_quit_status {
    SMTP_QUIT_NOT_SENT = 0,
    SMTP_QUIT_PENDING = 1,  /* sent, no answer yet */
    SMTP_QUIT_REPLIED = 2,  /* a reply arrived (quit_code; 221 expected) */
    SMTP_QUIT_CLOSED = 3,   /* EOF instead of a reply (fine: the server hung up) */
    SMTP_QUIT_TIMEOUT = 4,
    SMTP_QUIT_BAD_REPLY = 5 /* malformed or oversized reply to QUIT */
} smtp_quit_status;

/* smtp_finding - a noteworthy deviation that did not end the dialogue
 *
 * Codes (stable): "starttls-injection", "pre-tls-data", "bare-lf", "bare-cr",
 * "unexpected-code", "ehlo-syntax", "starttls-after-tls", "quit-reply", "mail-reply". */
typedef struct smtp_finding {
    const char *code;
    smtp_phase phase;
    char detail[SMTP_FINDING_DETAIL_MAX];
} smtp_finding;

/* smtp_rejection - a command (or the greeting) answered with 4xx/5xx */
typedef struct smtp_rejection {
    const char *command; /* "banner", "EHLO", "HELO", "STARTTLS" */
    smtp_phase phase;
    int code;
} smtp_rejection;

/* smtp_ehlo_obs - one EHLO exchange (before or after TLS) */
typedef struct smtp_ehlo_obs {
    int ehlo_sent;
    reply_rec ehlo;     /* reply to EHLO; code 0 when none arrived */
    int helo_fallback;  /* HELO sent because EHLO got 500/501/502/504/550 (RFC 5321 §4.1.4) */
    reply_rec helo;     /* reply to HELO */
    int esmtp;          /* EHLO accepted: caps is meaningful */
    ehlo_caps caps;     /* capabilities announced in the EHLO reply */
} smtp_ehlo_obs;

/* smtp_obs - everything observed; owned by the session, valid until smtp_free */
typedef struct smtp_obs {
    smtp_outcome outcome;
    smtp_phase outcome_phase;    /* the phase the outcome was decided in */
    char reason[SMTP_REASON_MAX]; /* one sentence; server text escaped */
    int implicit_tls;

    reply_rec banner;            /* the greeting, all lines */
    char *greeting_host;         /* first word of a 2xx greeting's first line; NULL if none */

    smtp_ehlo_obs pre_tls;       /* before STARTTLS: for the report only (RFC 3207 §4.2) */
    smtp_ehlo_obs post_tls;      /* over TLS (implicit TLS: the only one) */

    int starttls_offered;        /* the pre-TLS EHLO announced STARTTLS */
    int starttls_attempted;      /* we sent STARTTLS */
    reply_rec starttls;          /* its reply */
    int tls_started;             /* a handshake was requested from the adapter */
    int tls_ok;                  /* ... and the adapter reported success */

    size_t injected_bytes;       /* bytes discarded between the 220 and the handshake */
    char injected_head[SMTP_INJECT_HEAD]; /* the first of them, raw */
    size_t injected_head_len;

    smtp_rejection rejections[SMTP_MAX_REJECTIONS];
    size_t nrejections;

    smtp_quit_status quit_status;
    int quit_code;

    reply_error error;           /* for PROTOCOL_ERROR / LIMIT_EXCEEDED: line, column, message */

    /* The MAIL FROM:<> probe (smtp_config.mail_probe); the outcome was
     * decided before it, and it never changes the outcome. */
    int mail_probed;             /* MAIL FROM:<> was sent */
    int mail_code;               /* its reply code; 0 when none arrived */
    char mail_reply[SMTP_FINDING_DETAIL_MAX]; /* "530 5.7.0 Must issue ...", escaped */

    size_t commands;             /* commands emitted */
    size_t replies;              /* complete replies received (banner included) */

    /* Allocated as they come (at most SMTP_MAX_FINDINGS): most dialogues
     * have none, and a scanner holds thousands of sessions and reports. */
    smtp_finding *findings;
    size_t nfindings;
    size_t findings_dropped;
} smtp_obs;

typedef struct smtp_session smtp_session;

/* smtp_ehlo_name_check - 0 if name may be sent as the EHLO name: 1 to
 * SMTP_MAX_EHLO_NAME printable ASCII bytes, no space (it goes on the wire
 * verbatim); else -1 with the reason in err (err may be NULL) */
int smtp_ehlo_name_check(const char *name, err_rec *err);

/* smtp_config_check - 0 if cfg is acceptable, else -1 with the reason in err
 * (err may be NULL). The EHLO name must be 1..255 printable ASCII bytes
 * without spaces: it goes on the wire verbatim. */
int smtp_config_check(const smtp_config *cfg, err_rec *err);

/* smtp_new - a session in its initial state (READ for the banner, or
 * START_TLS with implicit_tls). The config is copied. NULL when the config is
 * invalid (see smtp_config_check) or memory is short. Free with smtp_free. */
smtp_session *smtp_new(const smtp_config *cfg);
void smtp_free(smtp_session *s);

/* smtp_feed - consume received cleartext bytes
 *
 * Returns how many bytes were consumed (possibly fewer than len: the machine
 * stops after a reply that makes it write or finish; keep the rest and feed it
 * when want() is READ again), SMTP_ERR_STATE after DONE, or SMTP_ERR_NOMEM. A
 * partial reply is a normal return. While want() is START_TLS every byte is
 * consumed and discarded (injection defence). */
ssize_t smtp_feed(smtp_session *s, const char *buf, size_t len);

/* smtp_output - the bytes to send now; *buf points into the session and is
 * valid until the next call on s. Returns 0 when there is nothing to send. */
size_t smtp_output(smtp_session *s, const char **buf);
/* smtp_output_consumed - n bytes of the output were sent (n is clamped) */
void smtp_output_consumed(smtp_session *s, size_t n);

enum smtp_want smtp_want(const smtp_session *s);
smtp_phase smtp_phase_get(const smtp_session *s);

/* smtp_tls_done - the handshake the machine asked for finished (ok != 0) or
 * failed. 0, or SMTP_ERR_STATE when no handshake was requested. */
int smtp_tls_done(smtp_session *s, int ok);
/* smtp_eof - the peer closed the connection (or a read failed) */
void smtp_eof(smtp_session *s);
/* smtp_timeout - the adapter's timer for smtp_phase_get(s) fired */
void smtp_timeout(smtp_session *s);

/* smtp_obs_get - the observations so far (complete once want() is DONE) */
const smtp_obs *smtp_obs_get(const smtp_session *s);

/* smtp_obs_copy - deep copy, to keep the observations after smtp_free.
 * dst need not be initialised. MXTLS_OK, or MXTLS_ERR_NOMEM with dst holding
 * only the fixed-size fields (outcome, reason, codes; no findings). Release
 * with smtp_obs_free. */
mxtls_status smtp_obs_copy(smtp_obs *dst, const smtp_obs *src);
/* smtp_obs_free - release what a copy owns; the fixed-size fields stay */
void smtp_obs_free(smtp_obs *o);

/* smtp_dump - the observations as "key=value" lines in a fixed order (peer
 * text escaped), for replay tests, fuzzing and debugging. Appends to out;
 * MXTLS_OK or the strbuf's error. */
mxtls_status smtp_dump(const smtp_session *s, strbuf *out);

/* Names (stable, for JSON and text reports). */
const char *smtp_outcome_name(smtp_outcome o); /* "ok-tls", ...; "?" if unknown */
const char *smtp_phase_name(smtp_phase p);     /* "banner", "post-tls-ehlo", ... */
const char *smtp_want_name(enum smtp_want w);       /* "read", "write", "start-tls", "done" */
const char *smtp_quit_status_name(smtp_quit_status q);

#endif
