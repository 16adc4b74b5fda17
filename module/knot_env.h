/*
 * What the module needs to know about its knotd and the zone it is loaded
 * for, read from knotd's configuration at load (knotd frees it afterwards):
 * where to send DNS queries, where the key database, zone file and control
 * socket are, and the zone's DNSSEC policy numbers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest path the module derives or uses; a longer one counts as unknown. */
#define MS_PATH_MAX 1024

/* policy.cds-cdnskey-publish, as knotd numbers its options (3.2 to 3.5). */
enum { MS_CDS_NONE = 0, MS_CDS_DELETE_DNSSEC, MS_CDS_ROLLOVER, MS_CDS_ALWAYS, MS_CDS_DOUBLE_DS };

/* The paths are heap strings owned by the struct (ms_knot_env_clear()), so
 * that a zone carries what its paths need rather than four path buffers
 * (thousands of zones); NULL means unknown, as does "" (ms_path_known()). */
typedef struct {
	struct sockaddr_storage listen;   /* a loopback-reachable knotd listener */
	char *kasp_db;                    /* database.kasp-db, absolute */
	char *zone_file;                  /* absolute; unknown if not derivable */
	char *control_socket;             /* absolute */
	char *state_dir;                  /* where the module keeps its state */
	bool signing;                     /* dnssec-signing: on */
	bool has_policy;                  /* a dnssec-policy is referenced */
	uint8_t algorithm;                /* DNSSEC algorithm number */
	uint32_t dnskey_ttl;              /* seconds; 0 = the SOA minimum */
	uint32_t zone_max_ttl;            /* seconds; 0 = computed by knotd */
	uint32_t propagation_delay;       /* seconds */
	int64_t zonefile_sync;            /* -1: never flushed, 0: at once */
	unsigned cds_cdnskey_publish;     /* MS_CDS_* */
	bool secondary;                   /* the zone has a master: it is transferred */
} ms_knot_env_t;

static inline bool ms_path_known(const char *path)
{
	return path != NULL && path[0] != '\0';
}

/* Free the paths; the struct can be read again afterwards. */
void ms_knot_env_clear(ms_knot_env_t *env);

#ifdef KNOTD_MOD_ABI_VERSION
/* Glue only: fill env from knotd's configuration for the module's zone.
 * False when memory ran out (env is then cleared). */
bool ms_knot_env_read(knotd_mod_t *mod, ms_knot_env_t *env);
#endif
