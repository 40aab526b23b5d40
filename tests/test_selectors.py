"""Label selectors in the API server's grammar (k8s.io/apimachinery/pkg/labels Parse). Every case below was
checked against that parser (v0.37.2): the valid ones parse there, the invalid ones fail there, except the
empty values, which Kubernetes reads as "the label is the empty string" and we refuse as typos."""
import pytest

from scheduler_extender.selectors import check_selector

VALID = [
    "role=alluxio-worker", "role==alluxio-worker", "spark-role!=driver", "spark-role", "!canary",
    "app in (a,b),!canary", "x notin (a)", "in in (in)", "in", "notin notin (notin)", "!in", "x in (in,notin)",
    "a.b/c-d_e.f=g", "example.com/x=a", "x=A_b.C-1", " x = a , y ", "app in (alluxio), role=alluxio-worker",
    "x,y,z", "x\t=\ta", "!x,y", "x in(a)", "x notin(a),y=b", "x>5", "x<12", "k=" + "v" * 63, "k" * 63,
]

INVALID = [
    ("", "it is empty"),
    (" , ", "found ',', expected a label key"),
    ("=a", "found '=', expected a label key"),
    ("role=alluxio worker", "found 'worker' after a requirement, expected ',' or the end"),
    ("x===a", "found '=' after x==, expected a value"),
    ("x=a,", "found the end, expected a label key"),
    (",x", "found ',', expected a label key"),
    ("x in a", "found 'a' after 'in', expected '('"),
    ("x in (a", "found the end in the 'in' list of 'x', expected ',' or ')'"),
    ("x in (a b)", "found 'b' in the 'in' list of 'x'"),
    ("x in (a)(b)", "found '(' after a requirement"),
    ("x>a", "'>' compares with a whole number, not 'a'"),
    ("x<-5", "'-5' (for 'x') is not a label value"),
    ("!x=a", "found '=' after a requirement"),
    ("!!x", "found '!', expected a label key"),
    ("Example.com/x=a", "has a prefix that is not a lower-case DNS subdomain"),
    ("/x=a", "has a prefix that is not a lower-case DNS subdomain"),
    ("a/b/c=d", "has a prefix that is not a lower-case DNS subdomain"),
    ("x=-a", "'-a' (for 'x') is not a label value"),
    ("x=a-", "'a-' (for 'x') is not a label value"),
    ("x y", "found 'y' after the key 'x', expected one of =, ==, !=, in, notin, >, <"),
    ("x=a=b", "found '=' after a requirement"),
    ("x!a", "found '!' after the key 'x'"),
    ("x==(a)", "found '(' after x==, expected a value"),
    ("x<=5", "found '=' after x<, expected a value"),
    ("x=!a", "found '!' after x=, expected a value"),
    ("role=ä", "'ä' (for 'role') is not a label value"),
    ("a;b", "the key 'a;b' is not a label name"),
    ("k" * 64 + "=a", "is not a label name"),
    ("k=" + "v" * 64, "is not a label value"),
]

EMPTY_VALUES = [  # valid to Kubernetes, refused here
    ("role==", "the value after role== is empty"),
    ("role=", "the value after role= is empty"),
    ("role!=", "the value after role!= is empty"),
    ("x in ()", "an empty value in the 'in' list of 'x'"),
    ("x in (a,,b)", "an empty value in the 'in' list of 'x'"),
    ("x notin (a,)", "an empty value in the 'notin' list of 'x'"),
]


@pytest.mark.parametrize("selector", VALID)
def test_selectors_kubernetes_accepts_pass(selector):
    check_selector(selector)


@pytest.mark.parametrize("selector,says", INVALID + EMPTY_VALUES)
def test_selectors_kubernetes_refuses_or_that_select_empty_values_fail_with_a_reason(selector, says):
    with pytest.raises(ValueError) as raised:
        check_selector(selector)
    assert says in str(raised.value)
