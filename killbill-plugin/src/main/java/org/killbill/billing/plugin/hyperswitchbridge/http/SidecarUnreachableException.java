package org.killbill.billing.plugin.hyperswitchbridge.http;

/** The connection was never established, so the sidecar certainly did not see the request. */
public final class SidecarUnreachableException extends SidecarTransportException {

    public SidecarUnreachableException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
