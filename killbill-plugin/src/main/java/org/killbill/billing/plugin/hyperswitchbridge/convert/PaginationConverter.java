package org.killbill.billing.plugin.hyperswitchbridge.convert;

import java.util.ArrayList;
import java.util.List;

import org.killbill.billing.plugin.hyperswitchbridge.json.AnswerFields;
import org.killbill.billing.plugin.hyperswitchbridge.json.MalformedAnswerException;
import org.killbill.billing.util.entity.Pagination;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code {"currentOffset","nextOffset","totalNbRecords","maxNbRecords","records"}} to {@code Pagination<T>}. */
public final class PaginationConverter<T> implements AnswerConverter<Pagination<T>> {

    private final AnswerConverter<? extends T> record;

    public PaginationConverter(final AnswerConverter<? extends T> record) {
        this.record = record;
    }

    @Override
    public Pagination<T> convert(final JsonNode answer) throws MalformedAnswerException {
        AnswerFields.object(answer, "Pagination");
        final JsonNode recordsNode = answer.get("records");
        if (recordsNode == null || !recordsNode.isArray()) {
            throw new MalformedAnswerException("records must be a JSON array");
        }
        final List<T> records = new ArrayList<>(recordsNode.size());
        for (final JsonNode item : AnswerFields.array(recordsNode, "records")) {
            records.add(record.convert(item));
        }
        final Long currentOffset = AnswerFields.whole(answer, "currentOffset");
        return new ListPagination<>(currentOffset == null ? 0L : currentOffset,
                                    AnswerFields.whole(answer, "nextOffset"),
                                    AnswerFields.whole(answer, "totalNbRecords"),
                                    AnswerFields.whole(answer, "maxNbRecords"),
                                    records);
    }
}
