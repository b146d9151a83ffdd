package org.killbill.billing.plugin.hyperswitchbridge.convert;

import java.util.Iterator;
import java.util.List;

import org.killbill.billing.util.entity.Pagination;

/** Kill Bill's {@code Pagination} over a page already read in full, so closing it releases nothing. */
public final class ListPagination<T> implements Pagination<T> {

    private final Long currentOffset;
    private final Long nextOffset;
    private final Long totalNbRecords;
    private final Long maxNbRecords;
    private final List<T> records;

    public ListPagination(final Long currentOffset, final Long nextOffset, final Long totalNbRecords,
                          final Long maxNbRecords, final List<T> records) {
        this.currentOffset = currentOffset;
        this.nextOffset = nextOffset;
        this.totalNbRecords = totalNbRecords;
        this.maxNbRecords = maxNbRecords;
        this.records = List.copyOf(records);
    }

    @Override
    public Long getCurrentOffset() {
        return currentOffset;
    }

    @Override
    public Long getNextOffset() {
        return nextOffset;
    }

    @Override
    public Long getMaxNbRecords() {
        return maxNbRecords;
    }

    @Override
    public Long getTotalNbRecords() {
        return totalNbRecords;
    }

    @Override
    public Iterator<T> iterator() {
        return records.iterator();
    }

    @Override
    public void close() {
        // Nothing is held open: the records were read from one HTTP answer.
    }
}
