/* SPDX-License-Identifier: ISC */
/*
 * frontdoor.c: the token file and the TLS files, from the parent's disk to
 * the front's memory.
 *
 * The parent reads them (at start, before its sandbox; on SIGHUP, through
 * the Landlock rule on their directories) and checks them whole with the
 * same parsers the front uses: a set that does not parse or whose key does
 * not match its certificate is refused, and the front keeps the set it
 * has.  A good set goes to the front as one memfd (the bytes back to
 * back) with an IPC_CTL_FRONTDOOR message; the front reads it once and
 * closes it.  The parent keeps the last good set, to hand it to a front
 * that is restarted.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ag_err.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "http/tls.h"
#include "http/tokens.h"
#include "daemon.h"
#include "ipc.h"

/* Reads one configured file ("" : none) into *buf, *len. */
static int
fdoor_read_one(const char *path, size_t max, uint8_t **buf, size_t *len,
    char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	if (path[0] == '\0')
		return 0;
	return ag_read_file(path, max, buf, len, err, errlen);
}

void
frontdoor_clear(struct frontdoor *fd)
{
	if (fd->fd_buf != NULL) {
		explicit_bzero(fd->fd_buf, fd->fd_len);
		free(fd->fd_buf);
	}
	memset(fd, 0, sizeof(*fd));
}

int
frontdoor_load(const struct ag_config *cf, struct frontdoor *fd, char *err,
    size_t errlen)
{
	struct frontdoor nf;
	struct token_set *ts = NULL;
	struct tls_creds *tc = NULL;
	uint8_t *part[4] = { NULL, NULL, NULL, NULL };
	size_t plen[4] = { 0, 0, 0, 0 }, off;
	const char *paths[4];
	int r, i;

	paths[0] = cf->cf_tokens;
	paths[1] = cf->cf_tls_cert;
	paths[2] = cf->cf_tls_key;
	paths[3] = cf->cf_tls_client_ca;
	memset(&nf, 0, sizeof(nf));
	for (i = 0; i < 4; i++)
		if ((r = fdoor_read_one(paths[i], i == 0 ? TOKENS_FILE_MAX :
		    IPC_TLS_FILE_MAX, &part[i], &plen[i], err, errlen)) != 0)
			goto out;
	if (paths[0][0] != '\0') {
		if ((r = tokens_parse((const char *)part[0], plen[0], paths[0],
		    &ts, err, errlen)) != 0)
			goto out;
		nf.fd_flags |= IPC_FD_TOKENS;
		nf.fd_ntokens = ts->ts_n;
	}
	if (paths[1][0] != '\0') {
		if ((r = tls_creds_load((const char *)part[1], plen[1],
		    paths[1], (const char *)part[2], plen[2], paths[2],
		    (const char *)part[3], plen[3], paths[3], &tc, err,
		    errlen)) != 0)
			goto out;
		tls_creds_describe(tc, nf.fd_tls_desc, sizeof(nf.fd_tls_desc));
		nf.fd_flags |= IPC_FD_TLS;
	}
	nf.fd_len = plen[0] + plen[1] + plen[2] + plen[3];
	if (nf.fd_len > 0 && (nf.fd_buf = malloc(nf.fd_len)) == NULL) {
		r = ag_errf(err, errlen, AG_ERR_ALLOC, "out of memory");
		goto out;
	}
	for (i = 0, off = 0; i < 4; i++) {
		if (plen[i] > 0)
			memcpy(nf.fd_buf + off, part[i], plen[i]);
		off += plen[i];
		nf.fd_part[i] = (uint32_t)plen[i];
	}
	nf.fd_generation = fd->fd_generation + 1;
	frontdoor_clear(fd);
	*fd = nf;
	r = 0;
out:
	for (i = 0; i < 4; i++)
		if (part[i] != NULL) {
			explicit_bzero(part[i], plen[i]);
			free(part[i]);
		}
	tokens_free(ts);
	tls_creds_free(tc);
	return r;
}

int
frontdoor_send(const struct frontdoor *fd, int ctl, char *err, size_t errlen)
{
	struct ipc_ctl_frontdoor m;
	size_t off = 0;
	ssize_t n;
	int mfd, r;

	if ((mfd = memfd_create("aiguard-frontdoor", MFD_CLOEXEC)) == -1)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "memfd_create: %s",
		    strerror(errno));
	while (off < fd->fd_len) {
		n = write(mfd, fd->fd_buf + off, fd->fd_len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = ag_errf(err, errlen, AG_ERR_SYSTEM, "memfd: %s",
			    n == 0 ? "short write" : strerror(errno));
			(void)close(mfd);
			return r;
		}
		off += (size_t)n;
	}
	memset(&m, 0, sizeof(m));
	ipc_hdr_init(&m.fd_hdr, IPC_CTL_FRONTDOOR, sizeof(m), 0);
	m.fd_generation = fd->fd_generation;
	m.fd_flags = fd->fd_flags;
	m.fd_tokens_len = fd->fd_part[0];
	m.fd_cert_len = fd->fd_part[1];
	m.fd_key_len = fd->fd_part[2];
	m.fd_ca_len = fd->fd_part[3];
	r = ipc_send(ctl, &m, sizeof(m), mfd);
	(void)close(mfd);
	if (r != 0)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "front link: %s",
		    strerror(errno));
	return 0;
}

int
frontdoor_receive(const struct ag_config *cf,
    const struct ipc_ctl_frontdoor *m, int mfd, struct token_set **tsp,
    struct tls_creds **tcp, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t total;
	int r = 0;

	*tsp = NULL;
	*tcp = NULL;
	total = (size_t)m->fd_tokens_len + m->fd_cert_len + m->fd_key_len +
	    m->fd_ca_len;
	if (mfd == -1 || fstat(mfd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != total)
		return ag_errf(err, errlen, AG_ERR_PROTOCOL, "front door: no "
		    "file of %zu bytes", total);
	/* Mapped, not read: the filter the front runs under has no pread,
	 * and the parent's writes left the file offset at the end. */
	if (total > 0 && (buf = mmap(NULL, total, PROT_READ, MAP_SHARED, mfd,
	    0)) == MAP_FAILED)
		return ag_errf(err, errlen, AG_ERR_SYSTEM, "front door: mmap: "
		    "%s", strerror(errno));
	if ((m->fd_flags & IPC_FD_TOKENS) && (r = tokens_parse((const char *)
	    buf, m->fd_tokens_len, cf->cf_tokens, tsp, err, errlen)) != 0)
		goto out;
	if ((m->fd_flags & IPC_FD_TLS) && (r = tls_creds_load((const char *)
	    buf + m->fd_tokens_len, m->fd_cert_len, cf->cf_tls_cert,
	    (const char *)buf + m->fd_tokens_len + m->fd_cert_len,
	    m->fd_key_len, cf->cf_tls_key, m->fd_ca_len > 0 ? (const char *)
	    buf + m->fd_tokens_len + m->fd_cert_len + m->fd_key_len : NULL,
	    m->fd_ca_len, cf->cf_tls_client_ca, tcp, err, errlen)) != 0) {
		tokens_free(*tsp);
		*tsp = NULL;
	}
out:
	if (total > 0)
		(void)munmap(buf, total);
	return r;
}
