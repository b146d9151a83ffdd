package org.killbill.billing.plugin.hyperswitchbridge.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/** Accepts a connection, reads the request, then drops the connection without a byte of answer. */
public final class HangUpServer implements AutoCloseable {

    private final ServerSocket socket = new ServerSocket(0);
    private final AtomicInteger bytesRead = new AtomicInteger();
    private final Thread acceptor;

    public HangUpServer() throws IOException {
        acceptor = new Thread(this::serve, "hang-up-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "http://127.0.0.1:" + socket.getLocalPort();
    }

    /** Proves the request did reach the server before it hung up. */
    public int bytesRead() {
        return bytesRead.get();
    }

    private void serve() {
        while (!socket.isClosed()) {
            try (Socket client = socket.accept()) {
                final InputStream in = client.getInputStream();
                final byte[] buffer = new byte[8192];
                client.setSoTimeout(500);
                try {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        bytesRead.addAndGet(n);
                    }
                } catch (final IOException endOfRequest) {
                    // read timeout: the whole request has arrived
                }
                client.setSoLinger(true, 0); // RST instead of FIN: a connection reset
            } catch (final IOException closed) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
