/* libcurl_multi_ref: the reference peer of tests/bench/run, written the way a typical application uses
 * the libcurl multi interface: one easy handle per transfer (created when the transfer starts, cleaned up
 * when it ends), at most --connections transfers at once, connections reused through the multi handle's
 * connection cache, TLS sessions shared between easy handles through a share handle (libcurl's session
 * cache is per easy handle otherwise), the server verified (CA file, host name), bodies discarded in the
 * write callback. Prints one result line and exits 0 only when every transfer answered --expect-status.
 *
 *   libcurl_multi_ref --url URL [-n REQUESTS] [-c CONNECTIONS] [--cacert F] [--cert F --key F]
 *                     [--post BODY] [--forbid-reuse] [--no-sessionid] [--expect-status S]
 */
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config {
    const char* url;
    long requests;
    long connections;
    const char* cacert;
    const char* cert;
    const char* key;
    const char* post;
    int forbid_reuse;
    int session_cache;
    long expect_status;
};

static size_t discard(char* data, size_t size, size_t n, void* user) {
    (void)data;
    *(unsigned long long*)user += (unsigned long long)(size * n);
    return size * n;
}

static unsigned long long body_bytes;
static struct curl_slist* post_headers;

static void add_transfer(CURLM* multi, CURLSH* share, const struct config* c) {
    CURL* e = curl_easy_init();
    if (!e) {
        fprintf(stderr, "libcurl_multi_ref: curl_easy_init failed\n");
        exit(3);
    }
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body_bytes);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    if (c->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
    if (c->cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
    if (c->key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
    if (c->post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->post);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, post_headers);
    }
    if (c->forbid_reuse)
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    if (!c->session_cache)
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_multi_add_handle(multi, e);
}

static void usage(void) {
    fprintf(stderr, "usage: libcurl_multi_ref --url URL [-n N] [-c C] [--cacert F] [--cert F --key F] "
                    "[--post BODY] [--forbid-reuse] [--no-sessionid] [--expect-status S]\n");
    exit(2);
}

int main(int argc, char** argv) {
    struct config c = {0};
    c.requests = 1;
    c.connections = 1;
    c.session_cache = 1;
    c.expect_status = 200;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--forbid-reuse"))
            c.forbid_reuse = 1;
        else if (!strcmp(a, "--no-sessionid"))
            c.session_cache = 0;
        else if (!v)
            usage();
        else if (!strcmp(a, "--url"))
            c.url = v, ++i;
        else if (!strcmp(a, "-n") || !strcmp(a, "--requests"))
            c.requests = atol(v), ++i;
        else if (!strcmp(a, "-c") || !strcmp(a, "--connections"))
            c.connections = atol(v), ++i;
        else if (!strcmp(a, "--cacert"))
            c.cacert = v, ++i;
        else if (!strcmp(a, "--cert"))
            c.cert = v, ++i;
        else if (!strcmp(a, "--key"))
            c.key = v, ++i;
        else if (!strcmp(a, "--post"))
            c.post = v, ++i;
        else if (!strcmp(a, "--expect-status"))
            c.expect_status = atol(v), ++i;
        else
            usage();
    }
    if (!c.url || c.requests <= 0 || c.connections <= 0)
        usage();

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLSH* share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (c.session_cache)
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (c.post)
        post_headers = curl_slist_append(NULL, "Content-Type: application/json");
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, c.connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, c.connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, c.connections);

    long started = 0, ok = 0, failed = 0;
    for (; started < c.connections && started < c.requests; ++started)
        add_transfer(multi, share, &c);

    int running = 1;
    char first_error[256] = "";
    while (running || ok + failed < c.requests) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) {
            fprintf(stderr, "libcurl_multi_ref: %s\n", curl_multi_strerror(mc));
            return 3;
        }
        CURLMsg* m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL* e = m->easy_handle;
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (m->data.result == CURLE_OK && status == c.expect_status) {
                ++ok;
            } else {
                ++failed;
                if (!first_error[0])
                    snprintf(first_error, sizeof first_error, "%s (HTTP %ld)",
                             curl_easy_strerror(m->data.result), status);
            }
            curl_multi_remove_handle(multi, e);
            curl_easy_cleanup(e);
            if (started < c.requests) {
                add_transfer(multi, share, &c);
                ++started;
                running = 1;
            }
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    printf("libcurl_multi_ref: ok %ld failed %ld bytes %llu\n", ok, failed, body_bytes);
    if (first_error[0])
        fprintf(stderr, "libcurl_multi_ref: first failure: %s\n", first_error);
    curl_multi_cleanup(multi);
    curl_share_cleanup(share);
    curl_slist_free_all(post_headers);
    curl_global_cleanup();
    return ok == c.requests ? 0 : 1;
}
