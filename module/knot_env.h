/*
 * What the module needs to know about its knotd and the zone it is loaded
 * for, read from knotd's configuration at load (knotd frees it afterwards):
 * where to send DNS queries, where the key database, zone file and control
 * socket are, and the zone's DNSSEC policy numbers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define MS_PATH_MAX 1024

/* policy.cds-cdnskey-publish, as knotd numbers its options (3.2 to 3.5). */
enum { MS_CDS_NONE = 0, MS_CDS_DELETE_DNSSEC, MS_CDS_ROLLOVER, MS_CDS_ALWAYS, MS_CDS_DOUBLE_DS };

typedef struct {
	struct sockaddr_storage listen;   /* a loopback-reachable knotd listener */
	char storage[MS_PATH_MAX];        /* database.storage */
	char kasp_db[MS_PATH_MAX];        /* database.kasp-db, absolute */
	char zone_storage[MS_PATH_MAX];   /* the zone's storage (templates) */
	char zone_file[MS_PATH_MAX];      /* absolute; empty if not derivable */
	char control_socket[MS_PATH_MAX]; /* absolute */
	char state_dir[MS_PATH_MAX];      /* where the module keeps its state */
	bool signing;                     /* dnssec-signing: on */
	bool has_policy;                  /* a dnssec-policy is referenced */
	uint8_t algorithm;                /* DNSSEC algorithm number */
	uint32_t dnskey_ttl;              /* seconds; 0 = the SOA minimum */
	uint32_t zone_max_ttl;            /* seconds; 0 = computed by knotd */
	uint32_t propagation_delay;       /* seconds */
	int64_t zonefile_sync;            /* -1: never flushed, 0: at once */
	unsigned cds_cdnskey_publish;     /* MS_CDS_* */
	bool secondary;                   /* the zone has a master: it is transferred */
	/* How knotd was started, so that keymgr reads the same configuration:
	 * "-c <file>" or "-C <confdb>"; both empty: use "-D <kasp_db>". */
	char conf_file[MS_PATH_MAX];
	char conf_db[MS_PATH_MAX];
} ms_knot_env_t;

#ifdef KNOTD_MOD_ABI_VERSION
/* Glue only: fill env from knotd's configuration for the module's zone. */
void ms_knot_env_read(knotd_mod_t *mod, ms_knot_env_t *env);
#endif
