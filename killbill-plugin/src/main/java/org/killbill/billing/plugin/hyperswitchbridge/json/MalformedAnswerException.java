package org.killbill.billing.plugin.hyperswitchbridge.json;

/** A 2xx answer that is not the JSON the contract promises: what the sidecar did is unknown. */
public final class MalformedAnswerException extends Exception {

    public MalformedAnswerException(final String message) {
        super(message);
    }

    public MalformedAnswerException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
