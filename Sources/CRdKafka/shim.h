// librdkafka, the Kafka client library: the Kafka event sinks produce through it (see
// Sources/DepotEventBrokers/README-brokers.md for which librdkafka versions work with which brokers).
#include <librdkafka/rdkafka.h>
