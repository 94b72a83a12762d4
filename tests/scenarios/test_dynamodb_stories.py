"""DynamoDB as applications use it, through boto3's resource API and PynamoDB.

A shop in one table (single-table design): customers, products, orders and order lines share
``pk``/``sk``, with two overloaded global secondary indexes (GSI1: e-mail -> customer, order
id -> order, product -> the lines that sell it; GSI2: category -> products by price, status ->
orders by date). The stories load it with ``batch_writer``, walk its access patterns with
``Key``/``Attr`` conditions, page through results, move orders between statuses with
conditional writes (the index follows), cancel a transaction on one failing condition, and
do the same with PynamoDB models (a GSI, conditional saves, optimistic locking with a
``VersionAttribute``). Then the table's other lives: a stream of an order's changes, TTL on
the cloudlet clock, and a point-in-time restore.

The PynamoDB stories are skipped when PynamoDB is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import importlib.util
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterator

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

needs_pynamodb = pytest.mark.skipif(importlib.util.find_spec("pynamodb") is None,
                                    reason="PynamoDB is not installed (pip install -e '.[test]')")

CUSTOMERS = {"c1": "ada@example.com", "c2": "grace@example.com", "c3": "alan@example.com"}
PRODUCTS = {  # id: (name, category, price, stock)
    "p01": ("Dune", "books", Decimal("9.99"), 40), "p02": ("Emma", "books", Decimal("12.50"), 3),
    "p03": ("Ulysses", "books", Decimal("21"), 7), "p04": ("Kettle", "kitchen", Decimal("35.00"), 12),
    "p05": ("Whisk", "kitchen", Decimal("4.25"), 100), "p06": ("Teapot", "kitchen", Decimal("18.75"), 0),
    "p07": ("Lamp", "home", Decimal("49.90"), 5), "p08": ("Rug", "home", Decimal("120"), 2),
}
# order id: (customer, date, status, {product: qty})
ORDERS = {
    "o1": ("c1", "2026-01-03", "DELIVERED", {"p01": 1, "p04": 1}),
    "o2": ("c1", "2026-01-09", "DELIVERED", {"p05": 3}),
    "o3": ("c1", "2026-02-14", "SHIPPED", {"p07": 1, "p02": 2}),
    "o4": ("c1", "2026-03-01", "PLACED", {"p08": 1}),
    "o5": ("c1", "2026-03-02", "PLACED", {"p01": 2}),
    "o6": ("c1", "2026-03-05", "PLACED", {"p03": 1, "p05": 1}),
    "o7": ("c1", "2026-03-07", "CANCELLED", {"p06": 1}),
    "o8": ("c2", "2026-02-20", "PLACED", {"p01": 1, "p02": 1}),
    "o9": ("c2", "2026-03-03", "SHIPPED", {"p04": 2}),
}


def _total(lines: dict[str, int]) -> Decimal:
    return sum((PRODUCTS[p][2] * q for p, q in lines.items()), Decimal(0))


def shop_items() -> Iterator[dict[str, Any]]:
    for c, email in CUSTOMERS.items():
        yield {"pk": f"CUSTOMER#{c}", "sk": "PROFILE", "type": "customer", "email": email,
               "gsi1pk": f"EMAIL#{email}", "gsi1sk": f"CUSTOMER#{c}"}
    for p, (name, category, price, stock) in PRODUCTS.items():
        yield {"pk": f"PRODUCT#{p}", "sk": "PRODUCT", "type": "product", "name": name, "price": price,
               "stock": stock, "gsi2pk": f"CATEGORY#{category}", "gsi2sk": f"PRICE#{price:010.2f}"}
    for o, (c, date, status, lines) in ORDERS.items():
        yield {"pk": f"CUSTOMER#{c}", "sk": f"ORDER#{date}#{o}", "type": "order", "order": o, "status": status,
               "total": _total(lines), "gsi1pk": f"ORDER#{o}", "gsi1sk": f"ORDER#{o}",
               "gsi2pk": f"STATUS#{status}", "gsi2sk": date}
        for p, qty in lines.items():
            yield {"pk": f"ORDER#{o}", "sk": f"LINE#{p}", "type": "line", "qty": qty, "price": PRODUCTS[p][2],
                   "gsi1pk": f"PRODUCT#{p}", "gsi1sk": f"ORDER#{o}"}


@pytest.fixture(scope="module")
def dynamodb(cloud: Any) -> Any:
    """boto3's resource API, as an application would make it."""
    return boto3.resource("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=BotoConfig(retries={"max_attempts": 1}))


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def shop(dynamodb: Any) -> Iterator[Any]:
    table = dynamodb.create_table(
        TableName=_unique("shop"), BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": f"GSI{n}", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
                           {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"}]}
            for n in (1, 2)
        ],
    )
    table.wait_until_exists()
    with table.batch_writer() as batch:
        for item in shop_items():
            batch.put_item(Item=item)
    yield table
    table.delete()


def _all_pages(call: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a Query/Scan, following LastEvaluatedKey; and how many calls it took."""
    items, calls, start = [], 0, None
    while True:
        page = call(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        calls += 1
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            return items, calls


def _code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


# --- boto3 resource API ---------------------------------------------------------------------


def test_the_shops_access_patterns_through_one_table_and_two_indexes(shop: Any) -> None:
    shop.reload()  # create_table answered CREATING; the waiter saw it ACTIVE
    assert shop.table_status == "ACTIVE"
    profile = shop.get_item(Key={"pk": "CUSTOMER#c1", "sk": "PROFILE"})["Item"]
    assert profile["email"] == "ada@example.com"

    # a customer's orders, newest first (the profile shares the partition and stays out)
    orders = shop.query(KeyConditionExpression=Key("pk").eq("CUSTOMER#c1") & Key("sk").begins_with("ORDER#"),
                        ScanIndexForward=False)["Items"]
    assert [o["order"] for o in orders] == ["o7", "o6", "o5", "o4", "o3", "o2", "o1"]
    assert orders[-1]["total"] == Decimal("44.99")  # 9.99 + 35.00, exact decimals both ways

    # the orders of one quarter, by sort key range
    march = shop.query(KeyConditionExpression=Key("pk").eq("CUSTOMER#c1")
                       & Key("sk").between("ORDER#2026-03-01", "ORDER#2026-03-05~"))["Items"]
    assert [o["order"] for o in march] == ["o4", "o5", "o6"]

    # GSI1: a customer by e-mail; an order by its id; the lines that sold a product
    by_email = shop.query(IndexName="GSI1", KeyConditionExpression=Key("gsi1pk").eq("EMAIL#grace@example.com"))
    assert [i["pk"] for i in by_email["Items"]] == ["CUSTOMER#c2"]
    header = shop.query(IndexName="GSI1", KeyConditionExpression=Key("gsi1pk").eq("ORDER#o3"))["Items"]
    assert [(h["type"], h["status"]) for h in header] == [("order", "SHIPPED")]
    sold = shop.query(IndexName="GSI1", KeyConditionExpression=Key("gsi1pk").eq("PRODUCT#p01"))["Items"]
    assert [(s["gsi1sk"], s["qty"]) for s in sold] == [("ORDER#o1", 1), ("ORDER#o5", 2), ("ORDER#o8", 1)]
    lines = shop.query(KeyConditionExpression=Key("pk").eq("ORDER#o3"))["Items"]
    assert {line["sk"]: line["qty"] for line in lines} == {"LINE#p02": 2, "LINE#p07": 1}

    # GSI2: a category's products by price (a sparse index: customers and lines are not in it)
    books = shop.query(IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq("CATEGORY#books"))["Items"]
    assert [b["name"] for b in books] == ["Dune", "Emma", "Ulysses"]
    cheap = shop.query(IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq("CATEGORY#kitchen")
                       & Key("gsi2sk").lt("PRICE#0000020.00"), FilterExpression=Attr("stock").gt(0))
    assert [p["name"] for p in cheap["Items"]] == ["Whisk"]  # the teapot is out of stock
    assert (cheap["Count"], cheap["ScannedCount"]) == (1, 2)

    # GSI2: open orders in a date range, across customers
    placed = shop.query(IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq("STATUS#PLACED")
                        & Key("gsi2sk").between("2026-02-01", "2026-03-03"))["Items"]
    assert [(p["order"], p["pk"]) for p in placed] == [("o8", "CUSTOMER#c2"), ("o4", "CUSTOMER#c1"),
                                                       ("o5", "CUSTOMER#c1")]

    # a filter over a scan: big orders anywhere; a projection of what a list page shows
    big = shop.scan(FilterExpression=Attr("type").eq("order") & Attr("total").gte(Decimal("50")),
                    ProjectionExpression="#o, #t", ExpressionAttributeNames={"#o": "order", "#t": "total"})
    assert sorted((i["order"], i["total"]) for i in big["Items"]) == [
        ("o3", Decimal("74.90")), ("o4", Decimal("120")), ("o9", Decimal("70.00"))]
    assert big["ScannedCount"] == len(list(shop_items()))


def test_paging_through_queries_scans_and_a_parallel_scan(shop: Any, dynamodb: Any) -> None:
    everything = len(list(shop_items()))
    orders, calls = _all_pages(shop.query, KeyConditionExpression=Key("pk").eq("CUSTOMER#c1")
                               & Key("sk").begins_with("ORDER#"), Limit=3)
    assert [o["order"] for o in orders] == ["o1", "o2", "o3", "o4", "o5", "o6", "o7"]
    assert calls in (3, 4)  # 3 + 3 + 1 (a fourth, empty page is allowed after a full one)

    # a Limit counts items read, not items returned: a filter can leave pages empty
    delivered, _ = _all_pages(shop.query, KeyConditionExpression=Key("pk").eq("CUSTOMER#c1")
                              & Key("sk").begins_with("ORDER#"), FilterExpression=Attr("status").eq("DELIVERED"),
                              Limit=2)
    assert [o["order"] for o in delivered] == ["o1", "o2"]

    # the client's paginator over an index, two at a time
    paginator = dynamodb.meta.client.get_paginator("query")
    pages = list(paginator.paginate(TableName=shop.name, IndexName="GSI2",
                                    KeyConditionExpression=Key("gsi2pk").eq("STATUS#PLACED"),
                                    PaginationConfig={"PageSize": 2}))
    assert [len(p["Items"]) for p in pages][:2] == [2, 2]
    assert [i["order"] for p in pages for i in p["Items"]] == ["o8", "o4", "o5", "o6"]

    scanned, calls = _all_pages(shop.scan, Limit=7)
    assert len(scanned) == everything and calls >= everything // 7
    assert len({(i["pk"], i["sk"]) for i in scanned}) == everything
    parts = [_all_pages(shop.scan, Segment=s, TotalSegments=3)[0] for s in range(3)]
    assert sorted((i["pk"], i["sk"]) for p in parts for i in p) == sorted((i["pk"], i["sk"]) for i in scanned)


def test_conditional_writes_move_an_order_through_its_statuses(shop: Any) -> None:
    client = shop.meta.client
    new = {"pk": "CUSTOMER#c3", "sk": "ORDER#2026-03-09#o10", "type": "order", "order": "o10",
           "status": "PLACED", "total": Decimal("9.99"), "gsi1pk": "ORDER#o10", "gsi1sk": "ORDER#o10",
           "gsi2pk": "STATUS#PLACED", "gsi2sk": "2026-03-09"}
    shop.put_item(Item=new, ConditionExpression=Attr("pk").not_exists())
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        shop.put_item(Item={**new, "total": Decimal(0)}, ConditionExpression=Attr("pk").not_exists())
    key = {"pk": "CUSTOMER#c3", "sk": "ORDER#2026-03-09#o10"}
    assert shop.get_item(Key=key)["Item"]["total"] == Decimal("9.99")

    def ship() -> dict[str, Any]:
        return shop.update_item(
            Key=key, UpdateExpression="SET #s = :shipped, gsi2pk = :gsi, shipped_at = :now ADD events :one",
            ConditionExpression=Attr("status").eq("PLACED"), ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":shipped": "SHIPPED", ":gsi": "STATUS#SHIPPED", ":now": "2026-03-10",
                                       ":one": 1})["Attributes"]

    shipped = ship()
    assert (shipped["status"], shipped["events"], shipped["total"]) == ("SHIPPED", 1, Decimal("9.99"))
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as failed:
        ship()
    assert failed.value.response["Error"]["Message"] == "The conditional request failed"
    assert failed.value.response["Item"]["status"] == {"S": "SHIPPED"}  # the item as it is, on the wire

    # the status index followed the update: o10 left PLACED and joined SHIPPED
    def orders_with(status: str) -> list[str]:
        found = shop.query(IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq(f"STATUS#{status}"))["Items"]
        return [o["order"] for o in found]

    assert "o10" not in orders_with("PLACED")
    assert orders_with("SHIPPED") == ["o3", "o9", "o10"]

    # stock goes down only while there is stock
    product = {"pk": "PRODUCT#p02", "sk": "PRODUCT"}
    for left in (1, 0):  # Emma: 3 in stock, 2 ordered... then 1 more leaves 0
        qty = 2 if left == 1 else 1
        after = shop.update_item(Key=product, UpdateExpression="SET stock = stock - :q",
                                 ConditionExpression="stock >= :q", ExpressionAttributeValues={":q": qty},
                                 ReturnValues="UPDATED_NEW")["Attributes"]
        assert after == {"stock": left}
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        shop.update_item(Key=product, UpdateExpression="SET stock = stock - :q", ConditionExpression="stock >= :q",
                         ExpressionAttributeValues={":q": 1})

    # a cancelled order may be deleted, an open one may not
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        shop.delete_item(Key={"pk": "CUSTOMER#c1", "sk": "ORDER#2026-03-05#o6"},
                         ConditionExpression=Attr("status").eq("CANCELLED"))
    gone = shop.delete_item(Key={"pk": "CUSTOMER#c1", "sk": "ORDER#2026-03-07#o7"},
                            ConditionExpression=Attr("status").eq("CANCELLED"), ReturnValues="ALL_OLD")
    assert gone["Attributes"]["order"] == "o7"
    assert shop.query(IndexName="GSI1", KeyConditionExpression=Key("gsi1pk").eq("ORDER#o7"))["Items"] == []


def test_batch_writer_overwrites_deletes_and_batch_get_reads_back(shop: Any, dynamodb: Any) -> None:
    with shop.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for n in range(30):  # more than one BatchWriteItem (25 a call)
            batch.put_item(Item={"pk": "LOG#2026-03", "sk": f"{n:04d}", "n": n})
        batch.put_item(Item={"pk": "LOG#2026-03", "sk": "0007", "n": 700})  # the last put of a key wins
        batch.delete_item(Key={"pk": "LOG#2026-03", "sk": "0008"})
        batch.delete_item(Key={"pk": "PRODUCT#p08", "sk": "PRODUCT"})
    log = shop.query(KeyConditionExpression=Key("pk").eq("LOG#2026-03"))["Items"]
    assert len(log) == 29 and {i["sk"]: i["n"] for i in log}["0007"] == 700
    rugs = shop.query(IndexName="GSI2", KeyConditionExpression=Key("gsi2pk").eq("CATEGORY#home"))["Items"]
    assert [r["name"] for r in rugs] == ["Lamp"]  # the deleted rug left the index too

    got = dynamodb.batch_get_item(RequestItems={shop.name: {
        "Keys": [{"pk": "CUSTOMER#c1", "sk": "PROFILE"}, {"pk": "PRODUCT#p01", "sk": "PRODUCT"},
                 {"pk": "PRODUCT#p08", "sk": "PRODUCT"}],
        "ProjectionExpression": "pk, email, #n", "ExpressionAttributeNames": {"#n": "name"}}})
    assert sorted(got["Responses"][shop.name], key=lambda i: i["pk"]) == [
        {"pk": "CUSTOMER#c1", "email": "ada@example.com"}, {"pk": "PRODUCT#p01", "name": "Dune"}]
    assert not got["UnprocessedKeys"]


def test_a_transaction_is_cancelled_whole_by_one_failing_condition(shop: Any, dynamodb: Any) -> None:
    client = dynamodb.meta.client  # the resource's client: Python values in, as boto3 users write them
    order = {"pk": "CUSTOMER#c2", "sk": "ORDER#2026-03-11#o11", "type": "order", "order": "o11",
             "status": "PLACED", "total": Decimal("245"), "gsi1pk": "ORDER#o11", "gsi1sk": "ORDER#o11"}

    def place(qty: int) -> dict[str, Any]:
        return client.transact_write_items(TransactItems=[
            {"Put": {"TableName": shop.name, "Item": order, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": shop.name, "Key": {"pk": "PRODUCT#p07", "sk": "PRODUCT"},
                        "UpdateExpression": "SET stock = stock - :q", "ConditionExpression": "stock >= :q",
                        "ExpressionAttributeValues": {":q": qty}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"ConditionCheck": {"TableName": shop.name, "Key": {"pk": "CUSTOMER#c2", "sk": "PROFILE"},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])

    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        place(6)  # 5 lamps in stock
    err = cancelled.value.response
    assert [r["Code"] for r in err["CancellationReasons"]] == ["None", "ConditionalCheckFailed", "None"]
    assert err["CancellationReasons"][1]["Item"]["stock"] == {"N": "5"}
    assert err["Error"]["Message"] == ("Transaction cancelled, please refer cancellation reasons for specific "
                                       "reasons [None, ConditionalCheckFailed, None]")
    # nothing of it happened: no order, the stock untouched
    assert "Item" not in shop.get_item(Key={"pk": "CUSTOMER#c2", "sk": "ORDER#2026-03-11#o11"})
    assert shop.get_item(Key={"pk": "PRODUCT#p07", "sk": "PRODUCT"})["Item"]["stock"] == 5

    place(5)
    both = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": shop.name, "Key": {"pk": "CUSTOMER#c2", "sk": "ORDER#2026-03-11#o11"}}},
        {"Get": {"TableName": shop.name, "Key": {"pk": "PRODUCT#p07", "sk": "PRODUCT"},
                 "ProjectionExpression": "stock"}},
    ])["Responses"]
    assert both[0]["Item"]["total"] == Decimal("245") and both[1]["Item"] == {"stock": 0}
    # the same order again fails on its own condition now
    with pytest.raises(client.exceptions.TransactionCanceledException) as again:
        place(0)
    assert [r["Code"] for r in again.value.response["CancellationReasons"]] == ["ConditionalCheckFailed", "None",
                                                                                 "None"]


# --- PynamoDB ---------------------------------------------------------------------------------


@pytest.fixture
def pynamo(cloud: Any) -> Iterator[dict[str, Any]]:
    """PynamoDB models on a fresh table each: a product with a category index and a version."""
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, VersionAttribute
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
    from pynamodb.models import Model

    table_name_, endpoint = _unique("pynamo-products"), cloud.endpoint

    class ByCategory(GlobalSecondaryIndex["Product"]):
        class Meta:
            index_name = "by_category"
            projection = AllProjection()

        category = UnicodeAttribute(hash_key=True)
        price = NumberAttribute(range_key=True)

    class Product(Model):
        class Meta:
            table_name = table_name_
            region = "us-east-1"
            host = endpoint
            aws_access_key_id = "test"
            aws_secret_access_key = "test"
            billing_mode = "PAY_PER_REQUEST"
            max_retry_attempts = 0

        sku = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute()
        category = UnicodeAttribute()
        price = NumberAttribute()
        stock = NumberAttribute(default=0)
        tags = UnicodeSetAttribute(null=True)
        version = VersionAttribute()
        by_category = ByCategory()

    Product.create_table(wait=True)
    try:
        yield {"Product": Product, "Meta": Product.Meta}
    finally:
        Product.delete_table()


@needs_pynamodb
def test_pynamodb_models_with_an_index_and_conditional_saves(pynamo: dict[str, Any]) -> None:
    from pynamodb.exceptions import PutError, UpdateError

    Product = pynamo["Product"]
    for sku, name, category, price, stock in [("b1", "Dune", "books", 9.99, 4), ("b2", "Emma", "books", 12.5, 0),
                                              ("b3", "Ulysses", "books", 21, 2), ("k1", "Kettle", "kitchen", 35, 1)]:
        Product(sku, name=name, category=category, price=price, stock=stock, tags={"new"}).save()
    assert Product.count() == 4
    dune = Product.get("b1")
    assert (dune.name, dune.price, dune.tags, dune.version) == ("Dune", 9.99, {"new"}, 1)

    cheap_books = Product.by_category.query("books", Product.price < 20)
    assert [p.sku for p in cheap_books] == ["b1", "b2"]
    in_stock = Product.by_category.query("books", filter_condition=Product.stock > 0, scan_index_forward=False)
    assert [p.sku for p in in_stock] == ["b3", "b1"]
    assert Product.by_category.count("books", Product.price.between(10, 25)) == 2

    # a save that must create: the second one is refused by DynamoDB, not by PynamoDB
    with pytest.raises(PutError) as refused:
        Product("b1", name="Other", category="books", price=1).save(Product.sku.does_not_exist())
    assert refused.value.cause_response_code == "ConditionalCheckFailedException"

    # update actions with a condition: sell while in stock
    kettle = Product.get("k1")
    kettle.update(actions=[Product.stock.add(-1), Product.tags.delete({"new"})], condition=Product.stock > 0)
    assert (kettle.stock, kettle.tags, kettle.version) == (0, None, 2)
    with pytest.raises(UpdateError) as sold_out:
        kettle.update(actions=[Product.stock.add(-1)], condition=Product.stock > 0)
    assert sold_out.value.cause_response_code == "ConditionalCheckFailedException"

    assert sorted(p.sku for p in Product.scan(Product.tags.contains("new"))) == ["b1", "b2", "b3"]
    with Product.batch_write() as batch:
        for p in Product.scan(Product.category == "books"):
            batch.delete(p)
    assert [p.sku for p in Product.scan()] == ["k1"]


@needs_pynamodb
def test_pynamodb_optimistic_locking_refuses_a_stale_version(pynamo: dict[str, Any]) -> None:
    from pynamodb.exceptions import DeleteError, PutError

    Product = pynamo["Product"]
    Product("t1", name="Teapot", category="kitchen", price=18.75, stock=3).save()
    mine, theirs = Product.get("t1"), Product.get("t1")
    assert mine.version == theirs.version == 1
    mine.stock = 2
    mine.save()  # condition: version = 1; version becomes 2
    assert mine.version == 2
    theirs.price = 15
    with pytest.raises(PutError) as stale:
        theirs.save()
    assert stale.value.cause_response_code == "ConditionalCheckFailedException"
    current = Product.get("t1")
    assert (current.stock, current.price, current.version) == (2, 18.75, 2)  # their write never landed
    with pytest.raises(DeleteError):
        theirs.delete()  # a stale delete is refused too
    theirs.refresh()
    theirs.price = 15
    theirs.save()
    assert (Product.get("t1").price, Product.get("t1").version) == (15, 3)


@needs_pynamodb
def test_pynamodb_transaction_cancelled_by_a_stale_version(pynamo: dict[str, Any], cloud: Any) -> None:
    from pynamodb.connection import Connection
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    Product, Meta = pynamo["Product"], pynamo["Meta"]
    Product("a", name="A", category="c", price=1, stock=1).save()
    Product("b", name="B", category="c", price=2, stock=1).save()
    stale = Product.get("b")
    fresh = Product.get("b")
    fresh.save()  # b is at version 2 now; `stale` still says 1
    connection = Connection(region=Meta.region, host=Meta.host, aws_access_key_id="test",
                            aws_secret_access_key="test", max_retry_attempts=0)
    a = Product.get("a")
    with pytest.raises(TransactWriteError) as cancelled:
        with TransactWrite(connection=connection) as tx:
            tx.update(a, actions=[Product.stock.add(-1)])
            tx.save(stale)
    assert cancelled.value.cause_response_code == "TransactionCanceledException"
    # PynamoDB sends puts before updates, and gives None for an item that did not fail
    reasons = cancelled.value.cancellation_reasons
    assert [r.code if r else None for r in reasons] == ["ConditionalCheckFailed", None]
    assert Product.get("a").stock == 1  # the update with it was not applied


# --- a stream, TTL, point-in-time recovery -----------------------------------------------------


def _stream_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record a stream holds, shard by shard from the oldest."""
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(100):
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            iterator = page.get("NextShardIterator")
            if not page["Records"] or not iterator:
                break
    return records


def _simple_table(dynamodb: Any, **extra: Any) -> Any:
    table = dynamodb.create_table(
        TableName=_unique("orders"), BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **extra)
    table.wait_until_exists()
    return table


def test_an_orders_life_in_its_stream(dynamodb: Any, cloud: Any) -> None:
    table = _simple_table(dynamodb, StreamSpecification={"StreamEnabled": True,
                                                         "StreamViewType": "NEW_AND_OLD_IMAGES"})
    try:
        assert table.stream_specification == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        table.put_item(Item={"id": "o1", "status": "PLACED", "total": Decimal("9.5")})
        table.update_item(Key={"id": "o1"}, UpdateExpression="SET #s = :s",
                          ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "SHIPPED"})
        table.update_item(Key={"id": "o1"}, UpdateExpression="SET #s = :s",  # changes nothing: no record
                          ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "SHIPPED"})
        table.delete_item(Key={"id": "o1"})
        table.delete_item(Key={"id": "nothing"})  # deleting nothing writes no record

        streams = cloud.client("dynamodbstreams")
        arn = table.latest_stream_arn
        assert streams.list_streams(TableName=table.name)["Streams"][0]["StreamArn"] == arn
        description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        assert (description["StreamStatus"], description["StreamViewType"]) == ("ENABLED", "NEW_AND_OLD_IMAGES")
        records = _stream_records(streams, arn)
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        first, shipped, removed = (r["dynamodb"] for r in records)
        assert first["Keys"] == {"id": {"S": "o1"}} and "OldImage" not in first
        assert first["NewImage"]["total"] == {"N": "9.5"}
        assert (shipped["OldImage"]["status"], shipped["NewImage"]["status"]) == ({"S": "PLACED"}, {"S": "SHIPPED"})
        assert "NewImage" not in removed and removed["OldImage"]["status"] == {"S": "SHIPPED"}
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3
        assert all(r["eventSource"] == "aws:dynamodb" and r["awsRegion"] == "us-east-1" for r in records)
    finally:
        table.delete()


def test_ttl_deletes_expired_orders_when_the_clock_passes_them(dynamodb: Any, cloud: Any) -> None:
    table = _simple_table(dynamodb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    client = dynamodb.meta.client
    try:
        client.update_time_to_live(TableName=table.name,
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
        assert client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
        now = datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00")).timestamp()
        table.put_item(Item={"id": "cart-1", "expires": int(now) + 3600})       # an hour left
        table.put_item(Item={"id": "cart-2", "expires": int(now) + 3 * 86400})  # three days left
        table.put_item(Item={"id": "cart-3", "expires": "tomorrow"})            # not a number: kept
        table.put_item(Item={"id": "cart-4"})                                   # no TTL attribute: kept
        assert table.get_item(Key={"id": "cart-1"}).get("Item")  # not expired yet

        cloud.advance(seconds=2 * 3600)  # answers once the sweeps due by then have run
        assert sorted(i["id"] for i in table.scan()["Items"]) == ["cart-2", "cart-3", "cart-4"]
        streams = cloud.client("dynamodbstreams")
        arn = table.latest_stream_arn
        removes = [r for r in _stream_records(streams, arn) if r["eventName"] == "REMOVE"]
        assert [r["dynamodb"]["Keys"]["id"]["S"] for r in removes] == ["cart-1"]
        assert removes[0]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
        assert removes[0]["dynamodb"]["OldImage"]["expires"] == {"N": str(int(now) + 3600)}

        cloud.advance(days=3)
        assert sorted(i["id"] for i in table.scan()["Items"]) == ["cart-3", "cart-4"]
        # a stream keeps 24 hours: what is left is the last deletion
        left = _stream_records(streams, arn)
        assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in left] == [("REMOVE", "cart-2")]
    finally:
        table.delete()


def test_point_in_time_restore_brings_back_the_table_as_it_was(dynamodb: Any, cloud: Any) -> None:
    table = _simple_table(dynamodb)
    client = dynamodb.meta.client
    restored_name = table.name + "-restored"
    try:
        client.update_continuous_backups(TableName=table.name,
                                         PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        description = client.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"]
        assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        table.put_item(Item={"id": "o1", "status": "PLACED"})
        table.put_item(Item={"id": "o2", "status": "PLACED"})
        cloud.advance(seconds=60)
        good = datetime.fromisoformat(cloud.admin("GET", "clock")["now"].replace("Z", "+00:00"))
        cloud.advance(seconds=60)
        table.delete_item(Key={"id": "o2"})  # the mistake
        table.put_item(Item={"id": "o1", "status": "LOST"})
        cloud.advance(seconds=600)  # the restorable window reaches past the mistake

        with pytest.raises(ClientError) as too_early:
            client.restore_table_to_point_in_time(SourceTableName=table.name, TargetTableName=restored_name,
                                                  RestoreDateTime=datetime(2001, 1, 1))
        assert _code(too_early.value) == "InvalidRestoreTimeException"
        answer = client.restore_table_to_point_in_time(SourceTableName=table.name, TargetTableName=restored_name,
                                                       RestoreDateTime=good)
        assert answer["TableDescription"]["TableName"] == restored_name
        restored = dynamodb.Table(restored_name)
        restored.wait_until_exists()
        assert sorted((i["id"], i["status"]) for i in restored.scan()["Items"]) == [("o1", "PLACED"),
                                                                                     ("o2", "PLACED")]
        assert sorted((i["id"], i["status"]) for i in table.scan()["Items"]) == [("o1", "LOST")]
    finally:
        table.delete()
        try:
            client.delete_table(TableName=restored_name)
        except ClientError:
            pass
