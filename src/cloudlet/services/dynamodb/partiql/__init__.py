"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

A statement is read by ``lexer`` and ``parser`` into the nodes of ``ast``; ``literals``
turns its values (and the request's ``?`` parameters) into AttributeValues with
DynamoDB's number rules; ``translate`` maps a WHERE or SET onto the expression
language (``ConditionExpression``, ``UpdateExpression`` text with placeholder names and
values) so PartiQL runs on the same condition and update machinery as the item API;
``select`` reads (Query- or Scan-shaped, with pages and NextToken); ``statements`` holds
the handlers. Writes go through ``transactions.WriteAction``, the engine behind
TransactWriteItems, so a PartiQL UPDATE and an UpdateItem can never disagree.
"""
