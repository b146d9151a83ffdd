package org.killbill.billing.plugin.hyperswitchbridge.support;

import java.util.UUID;

import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.killbill.billing.tenant.api.Tenant;
import org.killbill.billing.util.callcontext.CallContext;
import org.killbill.billing.util.callcontext.CallOrigin;
import org.killbill.billing.util.callcontext.TenantContext;
import org.killbill.billing.util.callcontext.UserType;

/** Kill Bill contexts with fixed, recognisable values. */
public final class TestContexts {

    public static final UUID TENANT_ID = UUID.fromString("11111111-1111-1111-1111-111111111111");
    public static final UUID ACCOUNT_ID = UUID.fromString("22222222-2222-2222-2222-222222222222");
    public static final DateTime CREATED = new DateTime(2024, 5, 1, 10, 30, 0, 0, DateTimeZone.UTC);

    private TestContexts() {
    }

    public static CallContext callContext() {
        return new CallContext() {
            @Override
            public UUID getUserToken() {
                return UUID.fromString("33333333-3333-3333-3333-333333333333");
            }

            @Override
            public String getUserName() {
                return "janitor";
            }

            @Override
            public CallOrigin getCallOrigin() {
                return CallOrigin.INTERNAL;
            }

            @Override
            public UserType getUserType() {
                return UserType.SYSTEM;
            }

            @Override
            public String getReasonCode() {
                return "retry";
            }

            @Override
            public String getComments() {
                return "from a test";
            }

            @Override
            public DateTime getCreatedDate() {
                return CREATED;
            }

            @Override
            public DateTime getUpdatedDate() {
                return CREATED;
            }

            @Override
            public UUID getAccountId() {
                return ACCOUNT_ID;
            }

            @Override
            public UUID getTenantId() {
                return TENANT_ID;
            }
        };
    }

    public static TenantContext tenantContext() {
        return new TenantContext() {
            @Override
            public UUID getAccountId() {
                return ACCOUNT_ID;
            }

            @Override
            public UUID getTenantId() {
                return TENANT_ID;
            }
        };
    }

    /** A tenant as Kill Bill's healthcheck endpoint hands it to the plugin. */
    public static Tenant tenant(final UUID id) {
        return new Tenant() {
            @Override
            public UUID getId() {
                return id;
            }

            @Override
            public DateTime getCreatedDate() {
                return CREATED;
            }

            @Override
            public DateTime getUpdatedDate() {
                return CREATED;
            }

            @Override
            public String getExternalKey() {
                return "acme";
            }

            @Override
            public String getApiKey() {
                return "acme";
            }

            @Override
            public String getApiSecret() {
                return "acme-secret";
            }
        };
    }
}
