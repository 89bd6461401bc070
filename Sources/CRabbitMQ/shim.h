// rabbitmq-c (Debian's librabbitmq-dev), the AMQP 0-9-1 client the RabbitMQ event sinks publish through.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

// amqp_login is variadic, which Swift cannot call: this wrapper fixes its SASL method to PLAIN
// (user name and password), the one every RabbitMQ accepts by default.
static inline amqp_rpc_reply_t depot_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                      int channel_max, int frame_max, int heartbeat,
                                                      const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}
