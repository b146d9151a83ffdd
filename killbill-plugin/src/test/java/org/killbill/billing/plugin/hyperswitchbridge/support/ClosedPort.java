package org.killbill.billing.plugin.hyperswitchbridge.support;

import java.io.IOException;
import java.net.ServerSocket;

/** A local port nobody listens on, so connecting to it is refused. */
public final class ClosedPort {

    private ClosedPort() {
    }

    public static String url() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }
    }
}
