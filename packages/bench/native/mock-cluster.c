/*
 * The reference broker for `pnpm bench:broker`: librdkafka's in-memory mock cluster with one
 * broker, run in its own process so the bench can load it exactly as it loads Tributary and read
 * its CPU time from /proc.
 *
 *   mock-cluster TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]
 *
 * Creates the topics, prints one line `{"bootstrap":"127.0.0.1:PORT"}` on stdout and runs until
 * stdin closes, SIGTERM or SIGINT. The mock cluster listens on 127.0.0.1 only.
 *
 * Build (the bench does this): gcc -O2 -o mock-cluster mock-cluster.c -lrdkafka
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
        (void)sig;
        stopping = 1;
}

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mcluster;
        struct sigaction sa;
        int i;

        if (argc < 2) {
                fprintf(stderr, "usage: %s TOPIC:PARTITIONS [TOPIC:PARTITIONS ...]\n", argv[0]);
                return 2;
        }

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* The mock cluster needs a client handle to live in; it serves no traffic of its own. */
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "mock-cluster: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-cluster: rd_kafka_new: %s\n", errstr);
                return 1;
        }

        mcluster = rd_kafka_mock_cluster_new(rk, 1);
        if (!mcluster) {
                fprintf(stderr, "mock-cluster: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        for (i = 1; i < argc; i++) {
                char name[256];
                const char *colon = strrchr(argv[i], ':');
                size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
                int partitions = colon ? atoi(colon + 1) : 1;
                rd_kafka_resp_err_t err;

                if (len == 0 || len >= sizeof(name) || partitions < 1) {
                        fprintf(stderr, "mock-cluster: bad topic spec \"%s\"\n", argv[i]);
                        return 2;
                }
                memcpy(name, argv[i], len);
                name[len] = '\0';
                err = rd_kafka_mock_topic_create(mcluster, name, partitions, 1);
                if (err) {
                        fprintf(stderr, "mock-cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
                        return 1;
                }
        }

        printf("{\"bootstrap\":\"%s\"}\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        /* The mock cluster runs on its own thread; this one only waits for the end. */
        while (!stopping) {
                struct pollfd pfd = {.fd = 0, .events = POLLIN};
                int r = poll(&pfd, 1, 200);
                if (r > 0) {
                        char buf[256];
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                                break;
                } else if (r < 0 && errno != EINTR) {
                        break;
                }
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
