package org.killbill.billing.plugin.hyperswitchbridge.convert;

import java.util.ArrayList;
import java.util.List;

import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code List<T>} (getPaymentInfo, getPaymentMethods): a JSON array, each item by the element converter. */
public final class ListConverter<T> implements AnswerConverter<List<T>> {

    private final AnswerConverter<? extends T> element;

    public ListConverter(final AnswerConverter<? extends T> element) {
        this.element = element;
    }

    @Override
    public List<T> convert(final JsonNode answer) throws MalformedAnswerException {
        if (answer == null || !answer.isArray()) {
            throw new MalformedAnswerException("the answer must be a JSON array");
        }
        final List<T> items = new ArrayList<>(answer.size());
        for (final JsonNode item : AnswerFields.array(answer, "list")) {
            items.add(element.convert(item));
        }
        return items;
    }
}
