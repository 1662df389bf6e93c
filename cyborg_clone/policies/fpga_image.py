"""Policy rules for the FPGA image API; the target is the project in the
path, so only that project's members (and admins) reach its images."""

from oslo_policy import policy

from cyborg_clone.policies import base

PREFIX = 'cyborg:fpga_image:%s'
PATH = '/v1/{project_id}/cloudservers/fpga_image'

rules = [
    policy.DocumentedRuleDefault(
        PREFIX % 'create', base.PROJECT_MEMBER_OR_ADMIN,
        'Build an FPGA image from a DCP tarball, or register a built one.',
        [{'path': '/v2/{project_id}/cloudservers/fpga_image',
          'method': 'POST'},
         {'path': PATH, 'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_all', base.PROJECT_READER_OR_ADMIN,
        'List the project\'s FPGA images and their associations.',
        [{'path': PATH + '/detail', 'method': 'GET'},
         {'path': PATH + '/associations', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'get_one', base.PROJECT_READER_OR_ADMIN,
        'Show one FPGA image (detail with fpga_image_id).',
        [{'path': PATH + '/detail?fpga_image_id={id}', 'method': 'GET'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'delete', base.PROJECT_MEMBER_OR_ADMIN,
        'Delete an FPGA image.',
        [{'path': PATH + '/{fpga_image_id}', 'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'associate', base.PROJECT_MEMBER_OR_ADMIN,
        'Associate an FPGA image with a VM image.',
        [{'path': PATH + '/{fpga_image_id}/association',
          'method': 'POST'}],
        scope_types=base.SCOPE_TYPES),
    policy.DocumentedRuleDefault(
        PREFIX % 'disassociate', base.PROJECT_MEMBER_OR_ADMIN,
        'Disassociate an FPGA image from a VM image.',
        [{'path': PATH + '/{fpga_image_id}/association',
          'method': 'DELETE'}],
        scope_types=base.SCOPE_TYPES),
]


def list_rules():
    return rules
