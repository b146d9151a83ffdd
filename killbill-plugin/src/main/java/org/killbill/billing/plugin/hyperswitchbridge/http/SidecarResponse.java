package org.killbill.billing.plugin.hyperswitchbridge.http;

import java.nio.charset.StandardCharsets;

/** An HTTP answer from the sidecar, whatever its status. */
public final class SidecarResponse {

    private final int status;
    private final byte[] body;

    public SidecarResponse(final int status, final byte[] body) {
        this.status = status;
        this.body = body == null ? new byte[0] : body;
    }

    public int status() {
        return status;
    }

    public byte[] body() {
        return body;
    }

    public boolean isSuccess() {
        return status >= 200 && status < 300;
    }

    public boolean isServerError() {
        return status >= 500;
    }

    /** The start of the body, for error messages (a proxy's HTML page can be long). */
    public String bodyExcerpt() {
        final String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }
}
