"""The WIQL parser: tokens -> :class:`~linesight.sandbox.wiql.query.Query`, or a refusal."""

from __future__ import annotations

from linesight.sandbox.wiql.errors import WiqlError
from linesight.sandbox.wiql.lexer import Token, tokenize
from linesight.sandbox.wiql.query import BoolOp, Condition, Expr, Not, Query, Value

__all__ = ["MAX_QUERY_LENGTH", "parse"]


MAX_QUERY_LENGTH = 32768  # Azure DevOps refuses longer WIQL text


def _syntax(expected: str, token: Token) -> WiqlError:
    if token.kind == "end":
        return WiqlError(f"TF51006: Expecting {expected}. The query ends too early.")
    return WiqlError(f"TF51006: Expecting {expected}. The error is caused by «{token.text}».")


def _unsupported(what: str, token_text: str) -> WiqlError:
    return WiqlError(
        f"TF51006: {what} is not supported by the linesight sandbox, which evaluates flat "
        f"WorkItems queries only. The error is caused by «{token_text}»."
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = tokenize(text)
        self._pos = 0

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._pos + ahead, len(self._tokens) - 1)]

    def _next(self) -> Token:
        token = self._peek()
        self._pos += 1
        return token

    def _accept(self, keyword: str) -> bool:
        if self._peek().keyword == keyword:
            self._pos += 1
            return True
        return False

    def _expect(self, keyword: str) -> None:
        if not self._accept(keyword):
            raise _syntax(keyword.upper(), self._peek())

    def _punct(self, char: str) -> bool:
        token = self._peek()
        if token.kind == "punct" and token.text == char:
            self._pos += 1
            return True
        return False

    def query(self) -> Query:
        self._expect("select")
        select = [self._field()]
        while self._punct(","):
            select.append(self._field())
        self._expect("from")
        source = self._next()
        if source.kind != "word" or source.text.casefold() != "workitems":
            if source.kind == "word" and source.text.casefold() == "workitemlinks":
                raise _unsupported("FROM WorkItemLinks (a tree or one-hop query)", source.text)
            raise _syntax("WorkItems after FROM", source)
        where = self._expr() if self._accept("where") else None
        order: list[tuple[str, bool]] = []
        if self._accept("order"):
            self._expect("by")
            while True:
                name = self._field()
                descending = False
                if self._accept("desc"):
                    descending = True
                else:
                    self._accept("asc")
                order.append((name, descending))
                if not self._punct(","):
                    break
        token = self._peek()
        if token.keyword in ("asof", "mode"):
            raise _unsupported(token.text.upper(), token.text)
        if token.kind != "end":
            raise _syntax("end of query", token)
        return Query(tuple(select), where, tuple(order))

    def _field(self) -> str:
        token = self._next()
        if token.kind == "field":
            name = token.text[1:-1].strip()
            if name:
                return name
        elif token.kind == "word" and token.keyword is None:
            return token.text
        elif token.kind == "punct" and token.text == "*":
            raise _unsupported("SELECT *", token.text)
        raise _syntax("a field name", token)

    def _expr(self) -> Expr:
        parts = [self._and()]
        while self._accept("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def _and(self) -> Expr:
        parts = [self._unary()]
        while self._accept("and"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def _unary(self) -> Expr:
        if self._accept("not"):
            return Not(self._unary())
        if self._punct("("):
            inner = self._expr()
            if not self._punct(")"):
                raise _syntax("a closing parenthesis", self._peek())
            return inner
        return self._condition()

    def _condition(self) -> Condition:
        name = self._field()
        token = self._next()
        if token.kind == "op":
            op = "<>" if token.text == "!=" else token.text
            return Condition(name, op, (self._value(),))
        negate = False
        if token.keyword == "not":
            negate = True
            token = self._next()
        keyword = token.keyword
        if keyword == "in":
            if not self._punct("("):
                raise _syntax("a parenthesized list of values after IN", self._peek())
            values = [self._value()]
            while self._punct(","):
                values.append(self._value())
            if not self._punct(")"):
                raise _syntax("a closing parenthesis", self._peek())
            return Condition(name, "notin" if negate else "in", tuple(values))
        if keyword == "under":
            return Condition(name, "notunder" if negate else "under", (self._value(),))
        if keyword == "contains":
            op = "containswords" if self._accept("words") else "contains"
            return Condition(name, ("not" if negate else "") + op, (self._value(),))
        if keyword == "is" and not negate:
            empty_negate = self._accept("not")
            self._expect("empty")
            return Condition(name, "isnotempty" if empty_negate else "isempty", ())
        if keyword == "ever":
            raise _unsupported("EVER (a historical query)", token.text)
        raise _syntax("a comparison operator", token)

    def _value(self) -> Value:
        token = self._next()
        if token.kind == "string":
            quote = token.text[0]
            return Value("string", token.text[1:-1].replace(quote * 2, quote), source=token.text)
        if token.kind == "punct" and token.text == "-" and self._peek().kind == "number":
            number = self._next()
            return Value("number", "-" + number.text, source="-" + number.text)
        if token.kind == "number":
            return Value("number", token.text, source=token.text)
        if token.kind == "macro":
            name = token.text[1:].casefold()
            offset = 0
            source = token.text
            sign = self._peek()
            if sign.kind == "punct" and sign.text in "+-" and self._peek(1).kind == "number":
                self._pos += 1
                amount = self._next()
                try:
                    offset = int(amount.text) * (-1 if sign.text == "-" else 1)
                except ValueError:
                    raise _syntax("a whole number of days", amount) from None
                source = f"{token.text} {sign.text} {amount.text}"
            return Value("macro", name, offset, source)
        if token.kind == "field" or (token.kind == "word" and token.keyword is None):
            raise _unsupported("Comparing a field with another field", token.text)
        raise _syntax("a value", token)


def parse(text: str) -> Query:
    """Parse WIQL text; raise :class:`WiqlError` for anything outside the supported subset."""
    if len(text) > MAX_QUERY_LENGTH:
        raise WiqlError(
            f"VS402334: The WIQL query text is {len(text)} characters long, over the limit of "
            f"{MAX_QUERY_LENGTH} characters. Change the query to use fewer clauses."
        )
    if not text.strip():
        raise WiqlError("TF51006: Expecting SELECT. The query is empty.")
    return _Parser(text).query()
