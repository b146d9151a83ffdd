package org.killbill.billing.plugin.hyperswitchbridge.http;

/** No HTTP answer came back from the sidecar; the subclass says whether the request could have arrived. */
public abstract class SidecarTransportException extends Exception {

    protected SidecarTransportException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
