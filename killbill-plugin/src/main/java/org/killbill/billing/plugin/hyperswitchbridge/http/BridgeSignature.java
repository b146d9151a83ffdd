package org.killbill.billing.plugin.hyperswitchbridge.http;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code X-Bridge-Signature} header: {@code t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>},
 * one {@code v1} per secret so a rotation needs no coordinated switch.
 */
public final class BridgeSignature {

    public static final String HEADER = "X-Bridge-Signature";

    private BridgeSignature() {
    }

    public static String sign(final byte[] body, final List<String> secrets, final long unixSeconds) {
        final StringBuilder header = new StringBuilder("t=").append(unixSeconds);
        for (final String secret : secrets) {
            header.append(",v1=").append(hmacHex(secret, unixSeconds, body));
        }
        return header.toString();
    }

    static String hmacHex(final String secret, final long unixSeconds, final byte[] body) {
        try {
            final Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((unixSeconds + ".").getBytes(StandardCharsets.US_ASCII));
            final byte[] digest = mac.doFinal(body);
            final StringBuilder hex = new StringBuilder(digest.length * 2);
            for (final byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (final NoSuchAlgorithmException | InvalidKeyException e) {
            // Every JRE ships HmacSHA256 and accepts any non-empty key: this is a broken runtime.
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
