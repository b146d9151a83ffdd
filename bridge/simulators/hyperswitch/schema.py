"""Field names and enum values copied from the v1 OpenAPI spec (``shared/reference/hyperswitch-openapi.json``).

Request allow-lists reproduce the router's ``deny_unknown_fields`` (an unknown key is IR_06); response key
orders let every object carry all of its keys, ``null`` where absent, as the real router serializes them.
"""

from __future__ import annotations


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PAYMENTS_RESPONSE_KEYS = _names("""
    payment_id merchant_id status amount net_amount shipping_cost amount_capturable
    amount_received processor_merchant_id initiator sdk_authorization connector state_metadata
    client_secret created modified_at connector_customer_id currency customer_id customer
    description refunds disputes attempts captures mandate_id mandate_data setup_future_usage
    off_session capture_on capture_method payment_method payment_method_data payment_token
    shipping billing order_details email name phone return_url authentication_type
    statement_descriptor_name statement_descriptor_suffix next_action cancellation_reason
    error_code error_message unified_code unified_message error_details payment_experience
    payment_method_type connector_label business_country business_label business_sub_label
    allowed_payment_method_types manual_retry_allowed connector_transaction_id frm_message
    metadata connector_metadata connector_response_metadata feature_metadata reference_id
    payment_link profile_id surcharge_details attempt_count merchant_decision
    merchant_connector_id incremental_authorization_allowed authorization_count
    incremental_authorizations external_authentication_details
    external_3ds_authentication_attempted expires_on fingerprint browser_info payment_channel
    payment_method_id network_transaction_id network_transaction_link_id payment_method_status
    updated split_payments frm_metadata extended_authorization_applied
    extended_authorization_last_applied_at request_extended_authorization capture_before
    merchant_order_reference_id order_tax_amount connector_mandate_id card_discovery
    force_3ds_challenge force_3ds_challenge_trigger issuer_error_code issuer_error_message
    is_iframe_redirection_enabled whole_connector_response enable_partial_authorization
    enable_overcapture is_overcapture_enabled network_details is_stored_credential mit_category
    billing_descriptor tokenization partner_merchant_identifier_details
    payment_method_tokenization_details installment_options installment_data
    sender_payment_instrument_id
""")

PAYMENTS_CREATE_FIELDS = _names("""
    amount order_tax_amount currency amount_to_capture shipping_cost payment_id routing
    connector capture_method authentication_type billing confirm customer customer_id
    off_session description return_url setup_future_usage payment_method_data payment_method
    payment_token shipping statement_descriptor_name statement_descriptor_suffix order_details
    mandate_data customer_acceptance mandate_id browser_info payment_experience
    payment_method_type business_country business_label merchant_connector_details
    allowed_payment_method_types metadata connector_metadata payment_link payment_link_config
    payment_link_config_id profile_id surcharge_details payment_type
    request_incremental_authorization session_expiry frm_metadata
    request_external_three_ds_authentication three_ds_data recurring_details split_payments
    request_extended_authorization merchant_order_reference_id skip_external_tax_calculation
    psd2_sca_exemption_type ctp_service_details force_3ds_challenge threeds_method_comp_ind
    is_iframe_redirection_enabled all_keys_required payment_channel tax_status discount_amount
    shipping_amount_tax duty_amount order_date enable_partial_authorization enable_overcapture
    is_stored_credential mit_category billing_descriptor tokenization
    partner_merchant_identifier_details installment_options installment_data profile_acquirer_id
    external_surcharge_strategy
""")

PAYMENTS_CONFIRM_FIELDS = _names("""
    amount order_tax_amount currency amount_to_capture shipping_cost payment_id routing
    connector capture_method authentication_type billing confirm customer customer_id
    off_session description return_url setup_future_usage payment_method_data payment_method
    payment_token shipping statement_descriptor_name statement_descriptor_suffix order_details
    client_secret mandate_data customer_acceptance mandate_id browser_info payment_experience
    payment_method_type merchant_connector_details allowed_payment_method_types retry_action
    metadata connector_metadata payment_link payment_link_config payment_link_config_id
    payment_type request_incremental_authorization session_expiry frm_metadata
    request_external_three_ds_authentication three_ds_data recurring_details split_payments
    request_extended_authorization merchant_order_reference_id skip_external_tax_calculation
    psd2_sca_exemption_type ctp_service_details force_3ds_challenge threeds_method_comp_ind
    is_iframe_redirection_enabled all_keys_required payment_channel tax_status discount_amount
    shipping_amount_tax duty_amount order_date enable_partial_authorization is_stored_credential
    mit_category billing_descriptor tokenization partner_merchant_identifier_details
    installment_options installment_data profile_acquirer_id external_surcharge_strategy
""")

PROFILE_UPDATE_FIELDS = _names("""
    profile_name return_url enable_payment_response_hash payment_response_hash_key
    redirect_to_merchant_with_http_post webhook_details metadata routing_algorithm
    intent_fulfillment_time frm_routing_algorithm payout_routing_algorithm
    applepay_verified_domains session_expiry payment_link_config
    authentication_connector_details use_billing_as_payment_method_billing
    collect_shipping_details_from_wallet_connector collect_billing_details_from_wallet_connector
    always_collect_shipping_details_from_wallet_connector
    always_collect_billing_details_from_wallet_connector is_connector_agnostic_mit_enabled
    payout_link_config outgoing_webhook_custom_http_headers tax_connector_id
    is_tax_connector_enabled is_network_tokenization_enabled is_auto_retries_enabled
    max_auto_retries_enabled always_request_extended_authorization is_click_to_pay_enabled
    authentication_product_ids card_testing_guard_config is_clear_pan_retries_enabled
    force_3ds_challenge is_debit_routing_enabled merchant_business_country
    is_iframe_redirection_enabled is_pre_network_tokenization_enabled merchant_category_code
    merchant_country_code dispute_polling_interval is_manual_retry_enabled
    always_enable_overcapture is_external_vault_enabled external_vault_connector_details
    billing_processor_id surcharge_connector_details is_l2_l3_enabled
    network_tokenization_credentials payment_method_blocking
""")

PROFILE_RESPONSE_KEYS = _names("""
    merchant_id profile_id profile_name return_url enable_payment_response_hash
    payment_response_hash_key redirect_to_merchant_with_http_post webhook_details metadata
    routing_algorithm intent_fulfillment_time frm_routing_algorithm payout_routing_algorithm
    applepay_verified_domains session_expiry payment_link_config
    authentication_connector_details use_billing_as_payment_method_billing
    extended_card_info_config collect_shipping_details_from_wallet_connector
    collect_billing_details_from_wallet_connector
    always_collect_shipping_details_from_wallet_connector
    always_collect_billing_details_from_wallet_connector is_connector_agnostic_mit_enabled
    payout_link_config outgoing_webhook_custom_http_headers tax_connector_id
    is_tax_connector_enabled is_network_tokenization_enabled is_auto_retries_enabled
    max_auto_retries_enabled always_request_extended_authorization is_click_to_pay_enabled
    authentication_product_ids card_testing_guard_config is_clear_pan_retries_enabled
    force_3ds_challenge is_debit_routing_enabled merchant_business_country
    is_pre_network_tokenization_enabled acquirer_configs acquirer_config_bucket
    is_iframe_redirection_enabled merchant_category_code merchant_country_code
    dispute_polling_interval is_manual_retry_enabled always_enable_overcapture
    is_external_vault_enabled external_vault_connector_details billing_processor_id
    surcharge_connector_details is_l2_l3_enabled network_tokenization_credentials
    payment_method_blocking
""")

CURRENCIES = _names("""
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
    RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STD STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
""")

PAYMENT_METHODS = _names("""
    card card_redirect pay_later wallet bank_redirect bank_transfer crypto bank_debit reward
    real_time_payment upi voucher gift_card open_banking mobile_payment network_token
""")

CUSTOMER_CREATE_FIELDS = _names("""
    customer_id name email phone description phone_country_code address metadata
    tax_registration_id document_details
""")

INTENT_STATUSES = _names("""
    succeeded failed cancelled cancelled_post_capture processing requires_customer_action
    requires_merchant_action requires_payment_method requires_confirmation requires_capture
    partially_captured partially_captured_and_capturable
    partially_authorized_and_requires_capture partially_captured_and_processing conflicted
    expired review
""")

# Deprecated top-level customer fields: hidden from the spec's create schema, still accepted by the Rust
# struct (reference/hyperswitch.md §2).
PAYMENTS_CREATE_FIELDS = PAYMENTS_CREATE_FIELDS + ("email", "name", "phone", "phone_country_code")

PAYMENTS_CAPTURE_FIELDS = _names("""
    merchant_id amount_to_capture refund_uncaptured_amount statement_descriptor_suffix
    statement_descriptor_prefix merchant_connector_details all_keys_required
""")

PAYMENTS_CANCEL_FIELDS = _names("cancellation_reason merchant_connector_details all_keys_required")

REFUND_CREATE_FIELDS = _names("""
    payment_id refund_id merchant_id amount reason refund_type metadata merchant_connector_details
    split_refunds all_keys_required
""")

REFUND_UPDATE_FIELDS = _names("reason metadata")

REFUND_LIST_FIELDS = _names("""
    start_time end_time payment_id refund_id profile_id limit offset amount_filter connector
    merchant_connector_id currency refund_status
""")

REFUND_RESPONSE_KEYS = _names("""
    refund_id payment_id amount currency status reason metadata error_message error_code unified_code
    unified_message created_at updated_at connector profile_id merchant_connector_id split_refunds
    issuer_error_code issuer_error_message raw_connector_response connector_refund_id
""")

CUSTOMER_UPDATE_FIELDS = tuple(name for name in CUSTOMER_CREATE_FIELDS if name != "customer_id")

CUSTOMER_RESPONSE_KEYS = _names("""
    customer_id name email phone phone_country_code description address created_at metadata
    default_payment_method_id tax_registration_id document_details
""")

WEBHOOK_DETAILS_FIELDS = _names("""
    webhook_version webhook_username webhook_password webhook_url payment_created_enabled
    payment_succeeded_enabled payment_failed_enabled payment_statuses_enabled refund_statuses_enabled
    payout_statuses_enabled
""")

DISPUTE_RESPONSE_KEYS = _names("""
    dispute_id payment_id attempt_id amount currency dispute_stage dispute_status connector
    connector_status connector_dispute_id connector_reason connector_reason_code challenge_required_by
    connector_created_at connector_updated_at created_at profile_id merchant_connector_id
    is_already_refunded
""")

CAPTURE_METHODS = _names("automatic manual manual_multiple scheduled sequential_automatic")
FUTURE_USAGES = _names("off_session on_session")
AUTHENTICATION_TYPES = _names("three_ds no_three_ds")
ACCEPTANCE_TYPES = _names("online offline")
RECURRING_DETAIL_TYPES = _names("""
    mandate_id payment_method_id processor_payment_token network_transaction_id_and_card_details
    network_transaction_id_and_network_token_details
    network_transaction_id_and_decrypted_wallet_token_details card_with_limited_data
""")
REFUND_STATUSES = _names("succeeded failed pending review")
DISPUTE_STATUSES = _names("""
    dispute_opened dispute_expired dispute_accepted dispute_cancelled dispute_challenged dispute_won
    dispute_lost
""")
DISPUTE_STAGES = _names("pre_dispute dispute pre_arbitration arbitration dispute_reversal")

# Currency exponents where they differ from 2 (reference/hyperswitch.md §8).
ZERO_DECIMAL_CURRENCIES = frozenset(_names(
    "BIF CLP DJF GNF IRR JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"))
THREE_DECIMAL_CURRENCIES = frozenset(_names("BHD IQD JOD KWD LYD OMR TND"))
FOUR_DECIMAL_CURRENCIES = frozenset(("CLF",))


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point, by Hyperswitch's own table (not ISO 4217)."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    if currency in FOUR_DECIMAL_CURRENCIES:
        return 4
    return 2

# -- payouts -------------------------------------------------------------------------------------
# The router's PayoutCreateRequest (deny_unknown_fields) serves create and confirm: the spec's
# PayoutsCreateRequest / PayoutConfirmRequest fields plus payout_id, merchant_id and client_secret,
# which utoipa removes from the generated create schema but the struct reads.
PAYOUT_CREATE_FIELDS = _names("""
    payout_id merchant_id merchant_order_reference_id amount currency routing connector confirm
    payout_type payout_method_data source_bank_data billing auto_fulfill customer_id customer
    client_secret return_url business_country business_label description entity_type recurring
    metadata payout_token profile_id priority payout_link payout_link_config session_expiry email
    name phone phone_country_code payout_method_id browser_info
""")

PAYOUT_RESPONSE_KEYS = _names("""
    payout_id merchant_id merchant_order_reference_id amount currency connector payout_type
    payout_method_data source_bank_data billing auto_fulfill customer_id customer client_secret
    return_url business_country business_label description entity_type recurring metadata
    merchant_connector_id status error_message error_code profile_id created
    connector_transaction_id priority attempts payout_link email name phone phone_country_code
    unified_code unified_message payout_method_id
""")

PAYOUT_LIST_QUERY = _names("customer_id starting_after ending_before limit created start_time end_time")

PAYOUT_STATUSES = _names("""
    success failed cancelled initiated expired reversed pending ineligible requires_creation
    requires_confirmation requires_payout_method_data requires_fulfillment
    requires_vendor_account_creation
""")
PAYOUT_TYPES = _names("card bank wallet bank_redirect")
PAYOUT_ENTITY_TYPES = _names("Individual Company NonProfit PublicSector NaturalPerson lowercase Personal")
PAYOUT_PRIORITIES = _names("instant fast regular wire cross_border internal")
PAYOUT_CARD_FIELDS = _names("card_number expiry_month expiry_year card_holder_name card_network")
