from domplay.autoif.mutate import WRONG_TEXT, mutants, wrong_value


def test_wrong_values_keep_their_kind():
    assert wrong_value("2") == "3" and wrong_value("$111.95") == "$112.95" and wrong_value("4.0") == "5"
    assert wrong_value("flannel") == f"flannel {WRONG_TEXT}"


def test_mutants_change_one_thing():
    path = ('fill("Search products", "flannel")', 'press("Search products", "Enter")', 'answer("6")')
    assert mutants(path) == [
        ('fill("Search products", "flannel zzq")', 'press("Search products", "Enter")', 'answer("6")'),
        ('fill("Search products", "flannel")', 'press("Search products", "Enter")', 'answer("7")'),
        ('answer("6")',),
    ]
    assert mutants(('click("Kitchen")',)) == []
