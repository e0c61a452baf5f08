import pyarrow as pa
import pyarrow.parquet as pq

from seqprep.parquet import parquet_writer


def test_shards_are_zstd_with_dictionaries_except_for_floats(tmp_path):
    schema = pa.schema([("id", pa.int64()), ("seq", pa.list_(pa.list_(pa.float32(), 2))),
                        ("tokens", pa.large_list(pa.string())), ("label", pa.string()), ("w", pa.float64())])
    batch = pa.RecordBatch.from_pylist(
        [{"id": 1, "seq": [[0.5, 1.5]], "tokens": ["a", "b"], "label": "x", "w": 2.5}], schema=schema)
    with parquet_writer(tmp_path / "s.parquet", schema) as w:
        w.write_batch(batch)
    meta = pq.ParquetFile(tmp_path / "s.parquet").metadata.row_group(0)
    columns = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    assert {c.compression for c in columns.values()} == {"ZSTD"}
    assert {p for p, c in columns.items() if "RLE_DICTIONARY" in c.encodings} == \
        {"id", "tokens.list.element", "label"}
    assert pq.read_table(tmp_path / "s.parquet").to_batches()[0].equals(batch)
