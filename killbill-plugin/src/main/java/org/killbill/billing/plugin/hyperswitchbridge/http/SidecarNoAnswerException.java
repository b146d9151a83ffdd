package org.killbill.billing.plugin.hyperswitchbridge.http;

/** The request may have reached the sidecar but no answer was read: its outcome is unknown. */
public final class SidecarNoAnswerException extends SidecarTransportException {

    public SidecarNoAnswerException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
