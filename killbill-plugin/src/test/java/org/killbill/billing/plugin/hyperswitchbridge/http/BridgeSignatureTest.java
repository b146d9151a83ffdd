package org.killbill.billing.plugin.hyperswitchbridge.http;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Tag("fast")
class BridgeSignatureTest {

    @Test
    void matchesTheSidecarsOwnSigner() {
        // Produced by bridge.plugin_api.signature.sign(b'{"a":1}', ['s3cret', 'old-secret'], 1700000000).
        final String expected = "t=1700000000,v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
                                + ",v1=e29ca811af373f1279f2b539116c71422ef13c442c1d2e1ce1f372109610a6b0";
        assertEquals(expected, BridgeSignature.sign("{\"a\":1}".getBytes(StandardCharsets.UTF_8),
                                                    List.of("s3cret", "old-secret"), 1700000000L));
    }
}
