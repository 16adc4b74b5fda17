#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "settings.h"

static void api_url_https_anywhere(void **state)
{
	(void)state;
	assert_int_equal(ms_check_api_url("https://api.cloudflare.com/client/v4", NULL), MS_OK);
	assert_int_equal(ms_check_api_url("https://10.1.2.3:8443/v4", NULL), MS_OK);
}

static void api_url_http_only_loopback(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_api_url("http://127.0.0.1:8080/client/v4", NULL), MS_OK);
	assert_int_equal(ms_check_api_url("http://127.8.9.10/", NULL), MS_OK);
	assert_int_equal(ms_check_api_url("http://[::1]:8080/", NULL), MS_OK);
	assert_int_equal(ms_check_api_url("http://localhost/", NULL), MS_OK);
	assert_int_equal(ms_check_api_url("http://api.cloudflare.com/client/v4", &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "loopback"));
	assert_non_null(strstr(err.msg, "api.cloudflare.com"));
	assert_int_equal(ms_check_api_url("http://128.0.0.1/", NULL), MS_EINVAL);
	assert_int_equal(ms_check_api_url("http://[::2]/", NULL), MS_EINVAL);
}

static void api_url_rejects_garbage(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_api_url("ftp://127.0.0.1/", &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "ftp"));
	assert_int_equal(ms_check_api_url("", NULL), MS_EINVAL);
	assert_int_equal(ms_check_api_url("not a url at all", NULL), MS_EINVAL);
}

static void host_loopback(void **state)
{
	(void)state;
	assert_true(ms_host_is_loopback("127.0.0.1"));
	assert_true(ms_host_is_loopback("[::1]"));
	assert_true(ms_host_is_loopback("LOCALHOST"));
	assert_false(ms_host_is_loopback("localhost.example"));
	assert_false(ms_host_is_loopback("192.168.1.1"));
	assert_false(ms_host_is_loopback(NULL));
}

static void zone_id_format(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_zone_id("023e105f4ecef8ad9ca31a8372d0c353", NULL), MS_OK);
	assert_int_equal(ms_check_zone_id("023E105F4ECEF8AD9CA31A8372D0C353", &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "32 lowercase hex"));
	assert_int_equal(ms_check_zone_id("023e105f4ecef8ad9ca31a8372d0c35", NULL), MS_EINVAL);
	assert_int_equal(ms_check_zone_id("023e105f4ecef8ad9ca31a8372d0c3533", NULL), MS_EINVAL);
	assert_int_equal(ms_check_zone_id("023e105f4ecef8ad9ca31a8372d0c35g", NULL), MS_EINVAL);
	assert_int_equal(ms_check_zone_id(NULL, NULL), MS_EINVAL);
}

static void interval_range(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_interval(60, NULL), MS_OK);
	assert_int_equal(ms_check_interval(MS_MIN_CHECK_INTERVAL, NULL), MS_OK);
	assert_int_equal(ms_check_interval(MS_MAX_CHECK_INTERVAL, NULL), MS_OK);
	assert_int_equal(ms_check_interval(MS_MIN_CHECK_INTERVAL - 1, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(ms_check_interval(MS_MAX_CHECK_INTERVAL + 1, NULL), MS_EINVAL);
}

static void api_budget_range(void **state)
{
	(void)state;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_api_budget(MS_DEFAULT_API_BUDGET, NULL), MS_OK);
	assert_int_equal(ms_check_api_budget(MS_MIN_API_BUDGET, NULL), MS_OK);
	assert_int_equal(ms_check_api_budget(MS_MAX_API_BUDGET, NULL), MS_OK);
	assert_int_equal(ms_check_api_budget(MS_MIN_API_BUDGET - 1, &err), MS_EINVAL);
	assert_string_equal(err.msg, "9 is out of range: use 10 to 1000000");
	assert_int_equal(ms_check_api_budget(MS_MAX_API_BUDGET + 1, NULL), MS_EINVAL);
	assert_int_equal(ms_check_interval(5, &err), MS_EINVAL);
	assert_string_equal(err.msg, "5 s is out of range: use 10 s to 86400 s");
}

static void auth_forms(void **state)
{
	(void)state;
	ms_auth_kind_t kind = 99;
	ms_err_t err = { 0 };
	assert_int_equal(ms_check_auth_form(true, false, false, &kind, NULL), MS_OK);
	assert_int_equal(kind, MS_AUTH_TOKEN);
	assert_int_equal(ms_check_auth_form(false, true, true, &kind, NULL), MS_OK);
	assert_int_equal(kind, MS_AUTH_GLOBAL_KEY);
	assert_int_equal(ms_check_auth_form(true, true, true, &kind, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "not both"));
	assert_int_equal(ms_check_auth_form(false, true, false, &kind, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "together"));
	assert_int_equal(ms_check_auth_form(false, false, true, &kind, NULL), MS_EINVAL);
	assert_int_equal(ms_check_auth_form(false, false, false, &kind, &err), MS_EINVAL);
	assert_non_null(strstr(err.msg, "no credentials"));
}

static void ca_file(void **state)
{
	(void)state;
	char path[] = "/tmp/ms-ca-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ms_check_ca_file(path, NULL), MS_OK);
	unlink(path);
	assert_int_equal(ms_check_ca_file(path, NULL), MS_EINVAL);
	assert_int_equal(ms_check_ca_file("/tmp", NULL), MS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_url_https_anywhere),
		cmocka_unit_test(api_url_http_only_loopback),
		cmocka_unit_test(api_url_rejects_garbage),
		cmocka_unit_test(host_loopback),
		cmocka_unit_test(zone_id_format),
		cmocka_unit_test(interval_range),
		cmocka_unit_test(api_budget_range),
		cmocka_unit_test(auth_forms),
		cmocka_unit_test(ca_file),
	};
	return cmocka_run_group_tests_name("settings", tests, NULL, NULL);
}
